"""Another process holding the warehouse's DuckDB lock: a bounded wait, said at INFO, then the holder's PID."""

from __future__ import annotations

import logging

import dagster as dg
import duckdb
import pytest

from pipeline.lib.warehouse import Warehouse, WarehouseBusy, connect_waiting, lock_holder
from tests.lib.holders import DUCKDB_WRITER, Holder


class Clock:
    """Time that passes only when the code under test sleeps; `on_sleep` runs at every pause."""

    def __init__(self, on_sleep=lambda seconds: None):
        self.now, self.on_sleep, self.pauses = 0.0, on_sleep, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds
        self.on_sleep(seconds)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_duckdbs_lock_error_names_the_holder(warehouse):
    with Holder(DUCKDB_WRITER, warehouse) as holder, pytest.raises(duckdb.IOException) as error:
        duckdb.connect(str(warehouse))
    assert lock_holder(error.value) == str(holder.pid)
    assert lock_holder(duckdb.IOException("IO Error: No space left on device")) is None


def test_a_lock_held_for_the_whole_wait_fails_with_the_holders_pid(warehouse):
    clock, said = Clock(), []
    with Holder(DUCKDB_WRITER, warehouse) as holder, pytest.raises(WarehouseBusy) as busy:
        connect_waiting(warehouse, False, {}, 30, said.append, clock, clock.sleep)
    assert str(busy.value).startswith(f"another run is writing this warehouse (PID {holder.pid})")
    assert 30 <= clock.now < 31 and max(clock.pauses) <= 5, "growing pauses, bounded wait"
    assert said and all(f"(PID {holder.pid})" in line for line in said)


def test_the_open_succeeds_once_the_holder_is_gone(warehouse):
    with Holder(DUCKDB_WRITER, warehouse) as holder:
        clock, said = Clock(holder.release), []
        con = connect_waiting(warehouse, False, {}, 30, said.append, clock, clock.sleep)
    con.close()
    assert len(said) == 1 and clock.now == 0.5


def test_other_errors_are_not_waited_on(tmp_path):
    (tmp_path / "folder.duckdb").mkdir()
    clock = Clock()
    with pytest.raises(duckdb.Error):
        connect_waiting(tmp_path / "folder.duckdb", False, {}, 30, print, clock, clock.sleep)
    assert clock.now == 0


def test_an_asset_waiting_on_the_lock_says_so_at_info_and_fails_with_the_pid(warehouse):
    @dg.asset
    def writes(resource: Warehouse):
        with resource.connect() as con:
            con.execute("SELECT 1")

    with Holder(DUCKDB_WRITER, warehouse) as holder, dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([writes], instance=instance, raise_on_error=False,
                                resources={"resource": Warehouse(path=str(warehouse), lock_wait_seconds=1)})
        logs = instance.all_logs(result.run_id)
    assert not result.success
    waiting = [e for e in logs if "is locked by another process" in e.user_message]
    assert waiting and {e.level for e in waiting} == {logging.INFO}
    assert f"(PID {holder.pid})" in waiting[0].user_message
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert f"another run is writing this warehouse (PID {holder.pid})" in str(failure.event_specific_data.error.message)
