import datetime as dt
import json

import pytest

from pipeline.transform.dbt_vars import WINDOW_ENV, dbt_vars, vars_arg, window_env


def test_settings_become_vars_that_do_not_depend_on_the_window(tmp_path):
    values = dbt_vars(tmp_path / "w.duckdb", "EUR", 45)
    assert values == {
        "warehouse_path": str((tmp_path / "w.duckdb").resolve()),
        "reporting_currency": "EUR",
        "duckdb_memory_limit": "4GB",
        "activity_window_days": 45,
    }


def test_derived_activity_window_and_absolute_warehouse_path():
    values = dbt_vars("data/w.duckdb", "USD", None)
    assert "activity_window_days" not in values  # dbt derives W from the data
    assert values["warehouse_path"].startswith("/")  # dbt runs in dbt_project/: relative paths would move


def test_the_window_travels_in_the_environment():
    assert window_env((dt.date(2024, 1, 1), dt.date(2024, 7, 1))) == dict(zip(WINDOW_ENV, ["2024-01-01", "2024-07-01"],
                                                                               strict=True))
    assert window_env(None) == dict(zip(WINDOW_ENV, ["1900-01-01", "9999-01-01"], strict=True))


def test_empty_window_is_refused():
    with pytest.raises(ValueError):
        window_env((dt.date(2024, 4, 1), dt.date(2024, 4, 1)))


def test_vars_arg_is_json():
    flag, payload = vars_arg({"b": 1, "a": "x"})
    assert flag == "--vars" and json.loads(payload) == {"a": "x", "b": 1}


def test_the_early_parse_and_the_dbt_vars_resource_pass_the_same_vars(monkeypatch, tmp_path):
    from pipeline.settings import load_settings
    from pipeline.transform.assets import DbtVars
    from pipeline.transform.dbt_vars import settings_vars

    monkeypatch.setenv("RETENTION_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("RETENTION_ACTIVITY_WINDOW_DAYS", "30")
    settings = load_settings()
    resource = DbtVars(
        warehouse_path=str(settings.warehouse.resolve()),
        reporting_currency=settings.reporting_currency,
        activity_window_days=settings.activity_window_days,
        duckdb_memory_limit=settings.duckdb_memory_limit,
    )
    assert vars_arg(settings_vars(settings)) == resource.build() == DbtVars(**settings_vars(settings)).build()
