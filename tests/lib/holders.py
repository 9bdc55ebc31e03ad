"""Other processes holding the warehouse: a DuckDB writer, or a run holding a run lock, until told to stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DUCKDB_WRITER = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"
LOCK_HOLDER = (
    "import fcntl, os, sys; f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); f.seek(0); f.truncate(); "
    "f.write(str(os.getpid())); f.flush(); print('ready', flush=True); sys.stdin.read()"
)


class Holder:
    """A process running `code` with `path`; it holds what it took until `release()`."""

    def __init__(self, code: str, path: Path):
        self.process = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"
        self.pid = self.process.pid

    def release(self, *_) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait()

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *_) -> None:
        self.release()
