"""The GX worker process gives the verdicts GX gives in this process, and its death costs nothing but time."""

import datetime as dt
import os
import signal

import pandas as pd
import pytest

from pipeline.quality import gx_process
from pipeline.quality.expectations import RAW_SUITES, Params
from pipeline.quality.gx_run import validate, validate_here

PARAMS = Params(now=dt.datetime(2024, 6, 1))


def _orders() -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": ["o1", "o2", "o2"],
        "customer_id": ["c1", "c1", None],
        "ordered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2030-01-01"]),
        "amount": [10.0, 20.0, 30.0],
        "currency": ["USD", "usd", "EUR"],
        "status": ["completed", "pending", "refunded"],
    })


@pytest.fixture
def worker():
    gx_process.start()
    yield
    gx_process.stop()


def test_the_worker_gives_the_same_outcome_as_this_process(worker):
    expectations = RAW_SUITES[1].build(PARAMS)
    here = validate_here(_orders(), "orders", expectations)
    there = validate(_orders(), "orders", expectations)
    assert gx_process.running()
    assert not here.success and here.critical_failure
    assert len(here.failed) == 5  # future, status, duplicate id, currency, missing customer
    # repr: a null's unexpected sample is NaN, which is not equal to itself
    assert repr((there.success, there.failed, there.unexpected, there.evaluated_expectations)) == repr(
        (here.success, here.failed, here.unexpected, here.evaluated_expectations)
    )


def test_a_dead_worker_falls_back_to_this_process(worker):
    expectations = RAW_SUITES[1].build(PARAMS)
    assert validate(_orders(), "orders", expectations).critical_failure  # the worker is up
    for pid in list(gx_process._worker._processes):
        os.kill(pid, signal.SIGKILL)
    outcome = validate(_orders(), "orders", expectations)
    assert outcome.critical_failure and not gx_process.running()


def test_without_a_worker_suites_run_here():
    assert not gx_process.running()
    assert validate(_orders().iloc[:1], "orders", RAW_SUITES[1].build(PARAMS)).success
