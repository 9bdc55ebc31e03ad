"""What `retention run`, `nightly` and `demo` check and hold before Dagster or DuckDB is opened.

Preflight: the landing folder exists (or `--allow-empty` says running without one is meant), and the folders
of the warehouse and of DAGSTER_HOME can be written. Each problem stops the command with one line naming the
variable (exit 2), before anything runs, instead of a DuckDB or Dagster traceback halfway through.

Then one run at a time: an exclusive `flock` on a lock file beside the warehouse, and one in DAGSTER_HOME
(two runs initialising one fresh Dagster instance collide in its SQLite schema). A second run waits, saying
so with the holder's PID, and runs when the first is done; after `--wait` seconds it gives up with "another
run is writing this warehouse (PID ...)". The lock is the kernel's: it goes away with the process that held
it, however that process ended, so a crashed run never leaves a stale lock behind. The PID written into the
file is only for the message.
"""

from __future__ import annotations

import fcntl
import functools
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from pipeline.orchestration.errors import PipelineFailed
from pipeline.settings import Settings, SettingsError

DEFAULT_WAIT_SECONDS = 600.0
POLL_SECONDS = 1.0
LOG_EVERY_SECONDS = 30.0
_held: dict[Path, int] = {}  # lock files this process holds, with how many nested holders (demo -> run)


class RunLockBusy(PipelineFailed):
    """Another run held the lock for the whole wait."""


def _say(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def _not_accepted(variable: str, value: Path, form: str, reason: str) -> SettingsError:
    return SettingsError(f"{variable}='{value}' is not accepted: expected {form} ({reason})")


def _writable_folder(variable: str, folder: Path, create: bool) -> None:
    """Raise SettingsError naming `variable` unless files can be created in `folder`."""
    form = "a folder this user can write"
    blocking = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise _not_accepted(variable, folder, form, f"{blocking} is a file, not a folder")
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise _not_accepted(variable, folder, "an existing folder", "it does not exist")
        probe = folder / f".retention-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise _not_accepted(variable, folder, form, error.strerror or str(error)) from None


def has_landing_files(landing: Path) -> bool:
    """Whether an entity folder holds a CSV or Parquet file (links do not count: ingest does not read them)."""
    from pipeline.ingest.contract import ENTITIES
    from pipeline.ingest.scan import walk_folder
    from pipeline.ingest.staging import READERS

    return any(not is_link for e in ENTITIES for _, is_link in walk_folder(landing / e.folder, READERS))


def preflight(settings: Settings, allow_empty: bool = False, say: Callable[[str], None] = _say) -> None:
    """Stop with a SettingsError (one line per problem) when the run could not do its work."""
    landing = settings.landing_dir
    if not landing.is_dir() and not allow_empty:
        raise _not_accepted("RETENTION_LANDING_DIR", landing, "an existing folder",
                            "it does not exist; `retention run --allow-empty` runs without one")
    if settings.warehouse.is_dir():
        raise _not_accepted("RETENTION_WAREHOUSE", settings.warehouse, "a file path", "it is a folder")
    _writable_folder("RETENTION_WAREHOUSE", settings.warehouse.parent, create=True)
    if settings.warehouse.exists() and not os.access(settings.warehouse, os.W_OK):
        raise _not_accepted("RETENTION_WAREHOUSE", settings.warehouse, "a file this user can write",
                            "permission denied")
    if settings.dagster_home is not None:
        _writable_folder("DAGSTER_HOME", settings.dagster_home, create=False)
    if not landing.is_dir():
        say(f"The landing folder {landing} does not exist: nothing to ingest (--allow-empty)")
    elif not has_landing_files(landing):
        say(f"The landing folder {landing} holds no CSV or Parquet file: nothing to ingest")


def lock_files(settings: Settings) -> list[tuple[Path, str]]:
    """The lock files a run takes, in the order it takes them, with what a holder is doing."""
    warehouse = settings.warehouse.resolve()
    locks = [(warehouse.with_name(warehouse.name + ".lock"), "writing this warehouse")]
    if settings.dagster_home is not None:
        locks.append((settings.dagster_home.resolve() / "retention-run.lock", "using this DAGSTER_HOME"))
    return locks


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip() or "unknown"


def _acquire(path: Path, doing: str, wait_seconds: float, say: Callable[[str], None],
             clock: Callable[[], float], sleep: Callable[[float], None]) -> IO[str]:
    handle = path.open("a+", encoding="utf-8")
    deadline, next_message = clock() + wait_seconds, clock()
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                remaining = deadline - clock()
                if remaining <= 0:
                    raise RunLockBusy(
                        f"another run is {doing} (PID {_holder(handle)}): still running after waiting "
                        f"{wait_seconds:g} s; try again when it is done, or wait longer with --wait SECONDS"
                    ) from None
                if clock() >= next_message:
                    say(f"Another run is {doing} (PID {_holder(handle)}): waiting for it to finish, up to "
                        f"{remaining:.0f} s more ({path})")
                    next_message = clock() + LOG_EVERY_SECONDS
                sleep(min(POLL_SECONDS, remaining))
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return handle
    except BaseException:
        handle.close()
        raise


@contextmanager
def exclusive_run(settings: Settings, wait_seconds: float = DEFAULT_WAIT_SECONDS, say: Callable[[str], None] = _say,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Hold the run locks (waiting up to `wait_seconds` for each); nested use in one process holds them once."""
    with ExitStack() as stack:
        for path, doing in lock_files(settings):
            if _held.get(path):
                _held[path] += 1
            else:
                stack.enter_context(_acquire(path, doing, wait_seconds, say, clock, sleep))
                _held[path] = 1
            stack.callback(_release, path)
        yield


def _release(path: Path) -> None:
    _held[path] -= 1
    if not _held[path]:
        del _held[path]


def request_retry(settings: Settings, say: Callable[[str], None] = _say) -> None:
    """Have the next ingest read again every file rejected so far (`--retry-rejected`)."""
    from pipeline.ingest.manifest import request_retry_of_rejected
    from pipeline.lib.warehouse import connect_waiting

    con = connect_waiting(settings.warehouse, False, {}, DEFAULT_WAIT_SECONDS, say)
    try:
        count = request_retry_of_rejected(con)
    finally:
        con.close()
    say(f"--retry-rejected: {count} file(s) rejected for their content will be read again")


def guarded(command: Callable) -> Callable:
    """`command(args, settings)` after the preflight, under the run locks; `--retry-rejected` is recorded first."""

    @functools.wraps(command)
    def run(args, settings: Settings) -> int:
        preflight(settings, allow_empty=getattr(args, "allow_empty", False))
        wait = getattr(args, "wait", None)
        with exclusive_run(settings, DEFAULT_WAIT_SECONDS if wait is None else wait):
            if getattr(args, "retry_rejected", False):
                request_retry(settings)
            return command(args, settings)

    return run


def add_run_guard_arguments(parser, retry_rejected: bool = False, allow_empty: bool = False) -> None:
    """The flags of the guard, on a command that runs the pipeline."""
    parser.add_argument(
        "--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
        help=f"if another run is writing the warehouse, wait up to SECONDS for it (default {DEFAULT_WAIT_SECONDS:g})",
    )
    if retry_rejected:
        parser.add_argument(
            "--retry-rejected", action="store_true",
            help="read again every landing file rejected earlier for its content (files whose bytes changed are "
            "read again anyway)",
        )
    if allow_empty:
        parser.add_argument(
            "--allow-empty", action="store_true",
            help="run even when the landing folder (RETENTION_LANDING_DIR) does not exist: nothing is ingested",
        )
