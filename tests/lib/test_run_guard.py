"""Before a run: the folders it needs, checked with one line naming the variable; then one run at a time."""

from __future__ import annotations

import fcntl
import os

import pytest

from pipeline.lib.run_guard import RunLockBusy, exclusive_run, lock_files, preflight
from pipeline.settings import SettingsError, load_settings
from tests.lib.holders import LOCK_HOLDER, Holder
from tests.lib.test_warehouse_lock import Clock


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "landing" / "invoices").mkdir(parents=True)
    (tmp_path / "landing" / "invoices" / "a.csv").write_text("invoice_id\n1\n")
    (tmp_path / "dagster_home").mkdir()
    return tmp_path


def settings(paths, **changes):
    values = {"landing_dir": paths / "landing", "warehouse": paths / "data" / "w.duckdb",
              "dagster_home": paths / "dagster_home"}
    return load_settings(**{**values, **changes})


def test_a_ready_setup_passes_quietly_and_creates_the_warehouse_folder(paths):
    said = []
    preflight(settings(paths), say=said.append)
    assert said == [] and (paths / "data").is_dir()


def test_a_missing_landing_folder_is_an_error_unless_allowed(paths):
    missing = paths / "nowhere"
    with pytest.raises(SettingsError, match=f"^RETENTION_LANDING_DIR='{missing}' is not accepted: .*--allow-empty"):
        preflight(settings(paths, landing_dir=missing))
    said = []
    preflight(settings(paths, landing_dir=missing), allow_empty=True, say=said.append)
    assert said == [f"The landing folder {missing} does not exist: nothing to ingest (--allow-empty)"]


def test_an_empty_landing_folder_says_so(paths):
    (paths / "landing" / "invoices" / "a.csv").unlink()
    (paths / "landing" / "invoices" / "notes.txt").write_text("not data")
    said = []
    preflight(settings(paths), say=said.append)
    assert said == [f"The landing folder {paths / 'landing'} holds no CSV or Parquet file: nothing to ingest"]


@pytest.mark.parametrize("where", ["under a file", "a folder"])
def test_a_warehouse_that_cannot_be_written_is_named(paths, where):
    (paths / "file").write_text("x")
    (paths / "folder.duckdb").mkdir()
    warehouse = paths / "file" / "w.duckdb" if where == "under a file" else paths / "folder.duckdb"
    with pytest.raises(SettingsError, match="^RETENTION_WAREHOUSE=.* is not accepted: expected") as error:
        preflight(settings(paths, warehouse=warehouse))
    assert len(str(error.value).splitlines()) == 1


def test_a_missing_dagster_home_is_named(paths):
    with pytest.raises(SettingsError, match="^DAGSTER_HOME=.* is not accepted: expected an existing folder"):
        preflight(settings(paths, dagster_home=paths / "no_home"))


def test_a_second_run_waits_for_the_first_and_gives_up_with_its_pid(paths):
    config = settings(paths)
    (paths / "data").mkdir()
    warehouse_lock, _ = lock_files(config)[0]
    clock, said = Clock(), []
    with Holder(LOCK_HOLDER, warehouse_lock) as other, pytest.raises(RunLockBusy) as busy:
        with exclusive_run(config, 120, said.append, clock, clock.sleep):
            pass
    assert str(busy.value).startswith(f"another run is writing this warehouse (PID {other.pid}): still running after")
    assert clock.now == 120 and len(said) == 4, "said when it starts waiting, then every 30 s"
    assert said[0].startswith(f"Another run is writing this warehouse (PID {other.pid}): waiting for it")


def test_a_second_run_goes_ahead_when_the_first_ends(paths):
    config = settings(paths)
    (paths / "data").mkdir()
    home_lock, _ = lock_files(config)[1]
    with Holder(LOCK_HOLDER, home_lock) as other:
        clock, said = Clock(other.release), []
        with exclusive_run(config, 120, said.append, clock, clock.sleep):
            with exclusive_run(config, 0, said.append):  # demo -> run: the same process holds it once
                assert home_lock.read_text().strip() == str(os.getpid())
    assert said == [f"Another run is using this DAGSTER_HOME (PID {other.pid}): waiting for it to finish, up to 120 s "
                    f"more ({home_lock})"]
    with home_lock.open() as handle:  # released: anyone can take it now
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
