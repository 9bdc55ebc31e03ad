"""Only failures that can pass by themselves are retried."""

import dagster as dg

from pipeline.lib.retries import WAREHOUSE_RETRY_POLICY, is_transient, permanent_unless_transient


def test_lock_and_io_errors_are_transient_sql_errors_are_not():
    assert is_transient('IO Error: Could not set lock on file "w.duckdb": Conflicting lock is held')
    assert not is_transient("Binder Error: Referenced column \"mrr\" not found")


def test_permanent_errors_become_failures_that_are_not_retried():
    lock = OSError("Could not set lock on file")
    assert permanent_unless_transient(lock) is lock
    failure = permanent_unless_transient(RuntimeError("Compilation Error in model retention"))
    assert isinstance(failure, dg.Failure) and not failure.allow_retries
    assert WAREHOUSE_RETRY_POLICY.max_retries >= 1
