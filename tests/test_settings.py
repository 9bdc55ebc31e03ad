import datetime as dt
from pathlib import Path

import pytest

from pipeline.settings import Settings, SettingsError


def test_defaults(monkeypatch):
    for name in ("RETENTION_LANDING_DIR", "RETENTION_WAREHOUSE", "RETENTION_REPORTING_CURRENCY", "RETENTION_START",
                 "RETENTION_ACTIVITY_WINDOW_DAYS"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert (s.landing_dir, s.warehouse, s.reporting_currency, s.start, s.activity_window_days) == (
        Path("data/landing"), Path("data/warehouse.duckdb"), "USD", dt.date(2021, 1, 1), None
    )


def test_values_are_read_and_normalised(monkeypatch):
    monkeypatch.setenv("RETENTION_REPORTING_CURRENCY", "eur")
    monkeypatch.setenv("RETENTION_START", "2022-04-01")
    monkeypatch.setenv("RETENTION_ACTIVITY_WINDOW_DAYS", "60")
    s = Settings.from_env()
    assert (s.reporting_currency, s.start, s.activity_window_days) == ("EUR", dt.date(2022, 4, 1), 60)


@pytest.mark.parametrize(
    ("name", "value"),
    [("RETENTION_START", "01/04/2022"), ("RETENTION_REPORTING_CURRENCY", "EURO"), ("RETENTION_ACTIVITY_WINDOW_DAYS", "-3")],
)
def test_bad_values_name_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        Settings.from_env()
