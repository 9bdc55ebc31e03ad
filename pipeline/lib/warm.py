"""Imports slow modules on a background thread while the main thread waits on DuckDB or a dbt process.

Great Expectations takes about 3 s to import and is first needed by the checks that follow the ingest; the
ingest spends most of its time inside DuckDB, which releases the GIL, so the import costs nothing there.
The imported modules live as long as the process, so they are frozen for the garbage collector once loaded
(see process.py): otherwise every later full collection walks them again.
"""

from __future__ import annotations

import gc
import importlib
import threading


def import_in_background(*modules: str) -> threading.Thread:
    """Starts importing `modules`; an import that fails here is left to fail again, with its traceback, where
    the module is really used."""

    def load() -> None:
        for module in modules:
            try:
                importlib.import_module(module)
            except Exception:  # reported again, with its traceback, by the import that needs the module
                pass
        gc.freeze()

    thread = threading.Thread(target=load, name="import-in-background", daemon=True)
    thread.start()
    return thread
