"""Great Expectations in a worker process of its own, started first thing by `retention run` and `nightly`.

Importing GX takes 2.5-4 s of CPU, and in-process that import holds the GIL: a background thread hides it only
behind DuckDB work (the ingest), and on a nightly run at S, where the ingest takes about a second, the first
suite waited 1.5 s for it. A worker forked before Dagster is imported (one thread, nothing open but the dbt
parse's pipe) imports GX on the other core while this process starts, and then runs every suite: a check sends
its sample and gets the `Outcome` back, both plain data. Without a worker (tests, `dagster dev`) `call` runs the
function in this process, as before; so it does when the worker has died.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")

_worker: ProcessPoolExecutor | None = None


def _import_gx() -> None:
    """The worker's start: GX, frozen for the collector (it lives as long as the worker), and the collector
    back on (a worker forked while the definitions load inherits it switched off)."""
    import importlib

    from pipeline.quality.gx_run import GX_MODULES, no_usage_statistics

    no_usage_statistics()
    for module in GX_MODULES:
        importlib.import_module(module)
    gc.freeze()
    gc.enable()


def _ready() -> bool:
    return True


def start() -> None:
    """Forks the worker now (it imports GX meanwhile). Call it before anything starts threads."""
    global _worker
    if _worker is None:
        _worker = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=_import_gx)
        _worker.submit(_ready)


def stop() -> None:
    """Ends the worker; idempotent."""
    global _worker
    if _worker is not None:
        _worker.shutdown(wait=True, cancel_futures=True)
        _worker = None


def running() -> bool:
    return _worker is not None


def call(fn: Callable[..., T], *args: object) -> T:
    """fn(*args) in the worker when there is one, else (or when it died) here."""
    if _worker is not None:
        try:
            return _worker.submit(fn, *args).result()
        except BrokenProcessPool:
            stop()
    return fn(*args)
