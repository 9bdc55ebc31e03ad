"""Settings: one home for every RETENTION_* variable, its default and the values it accepts."""

import datetime as dt
import re
from pathlib import Path

import pytest

from pipeline.settings import Settings, SettingsError, load_settings, variable

README = Path(__file__).resolve().parents[1] / "README.md"

# One bad value per variable that has a constraint, and the words its error line must carry.
BAD_VALUES = {
    "RETENTION_REPORTING_CURRENCY": ("EURO", "ISO 4217"),
    "RETENTION_START": ("01/04/2022", "YYYY-MM-DD"),
    "RETENTION_ACTIVITY_WINDOW_DAYS": ("-3", "whole number of days"),
    "RETENTION_DUCKDB_MEMORY_LIMIT": ("lots", "size such as 4GB"),
    "RETENTION_DUCKDB_THREADS": ("0", "at least 1"),
    "RETENTION_OVERDUE_FACTOR": ("fast", "number above 0"),
    "RETENTION_INACTIVE_DAYS": ("ninety", "whole number of days"),
    "RETENTION_PAYMENT_GRACE_DAYS": ("-1", "at least 0"),
    "RETENTION_P_ALIVE_THRESHOLD": ("1.5", "probability"),
    "RETENTION_MRR_CONTRACTION_MIN_PCT": ("150", "percentage"),
    "RETENTION_CLV_MONTHS": ("0", "whole number of months from 1 to 120"),
    "RETENTION_DISCOUNT_RATE": ("10", "fraction from 0 to 1, such as 0.10 for 10 %"),
    "RETENTION_GROSS_MARGIN": ("60%", "fraction above 0 and at most 1"),
    "RETENTION_MAX_STALENESS_HOURS": ("0", "hours above 0"),
    "RETENTION_MAX_QUARANTINE_PCT": ("-5", "percentage"),
    "RETENTION_NIGHTLY_CRON": ("0 2 * *", "cron expression"),
    "RETENTION_NIGHTLY_TIMEZONE": ("Mars/Base", "IANA time zone"),
    "RETENTION_ALERT_WEBHOOK_URL": ("hooks.slack.com/services/x", "http:// or https:// URL"),
    "RETENTION_UI_URL": ("ftp://dagster:3000", "http:// or https:// URL"),
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No RETENTION_* from the caller's shell, and a working directory without a .env."""
    import os

    for name in list(os.environ):
        if name.startswith("RETENTION_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    s = load_settings()
    assert (s.landing_dir, s.warehouse, s.reporting_currency, s.start, s.activity_window_days) == (
        Path("data/landing"), Path("data/warehouse.duckdb"), "USD", dt.date(2021, 1, 1), None
    )


def test_values_are_read_and_normalised(monkeypatch):
    monkeypatch.setenv("RETENTION_REPORTING_CURRENCY", "eur")
    monkeypatch.setenv("RETENTION_START", "2022-04-01")
    monkeypatch.setenv("RETENTION_ACTIVITY_WINDOW_DAYS", "60")
    monkeypatch.setenv("RETENTION_NIGHTLY_CRON", "30  1 * * 1-5")
    s = load_settings()
    assert (s.reporting_currency, s.start, s.activity_window_days) == ("EUR", dt.date(2022, 4, 1), 60)
    assert s.nightly_cron == "30 1 * * 1-5"


def test_empty_means_the_default(monkeypatch):
    monkeypatch.setenv("RETENTION_ACTIVITY_WINDOW_DAYS", "")
    monkeypatch.setenv("RETENTION_INACTIVE_DAYS", "")
    assert (load_settings().activity_window_days, load_settings().inactive_days) == (None, 90)


@pytest.mark.parametrize(("name", "value", "words"), [(n, v, w) for n, (v, w) in BAD_VALUES.items()])
def test_a_bad_value_is_one_line_naming_the_variable_the_value_and_the_form(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert str(error.value) == f"{name}={value!r} is not accepted: expected " + str(error.value).split("expected ")[1]
    assert words in str(error.value) and "\n" not in str(error.value)


def test_every_bad_variable_gets_its_own_line(monkeypatch):
    monkeypatch.setenv("RETENTION_INACTIVE_DAYS", "x")
    monkeypatch.setenv("RETENTION_START", "y")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert sorted(line.split("=")[0] for line in str(error.value).splitlines()) == [
        "RETENTION_INACTIVE_DAYS", "RETENTION_START"
    ]


def test_dot_env_in_the_working_directory_is_read_and_the_environment_wins(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("RETENTION_INACTIVE_DAYS=45\nRETENTION_REPORTING_CURRENCY=GBP\nOTHER=1\n")
    monkeypatch.setenv("RETENTION_REPORTING_CURRENCY", "CHF")
    s = load_settings()
    assert (s.inactive_days, s.reporting_currency) == (45, "CHF")


def test_every_variable_is_documented_in_the_readme_with_its_default():
    """The README's configuration table names every setting, and its default column is the code's default."""
    rows = dict(re.findall(r"^\| `((?:RETENTION_|DAGSTER_)[A-Z_]+)` \| ([^|]+) \|", README.read_text(), re.M))
    for field, info in Settings.model_fields.items():
        name = variable(field)
        assert name in rows, f"{name} is not in the README's configuration table"
        if info.default not in (None,) and field != "dagster_home":
            shown = rows[name].strip().strip("`")
            same = shown == str(info.default) or (
                isinstance(info.default, int | float) and float(shown) == float(info.default)
            )
            assert same, f"{name}: README says {shown}, the code {info.default}"
