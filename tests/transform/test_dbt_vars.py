import datetime as dt
import json

import pytest

from pipeline.transform.dbt_vars import dbt_vars, vars_arg


def test_window_and_settings_become_vars(tmp_path):
    values = dbt_vars(tmp_path / "w.duckdb", "EUR", 45, (dt.date(2024, 1, 1), dt.date(2024, 7, 1)))
    assert values == {
        "warehouse_path": str((tmp_path / "w.duckdb").resolve()),
        "reporting_currency": "EUR",
        "duckdb_memory_limit": "4GB",
        "window_start": "2024-01-01",
        "window_end": "2024-07-01",
        "activity_window_days": 45,
    }


def test_no_window_means_all_history_and_derived_activity_window():
    values = dbt_vars("data/w.duckdb", "USD", None)
    assert (values["window_start"], values["window_end"]) == ("1900-01-01", "9999-01-01")
    assert "activity_window_days" not in values  # dbt derives W from the data
    assert values["warehouse_path"].startswith("/")  # dbt runs in dbt_project/: relative paths would move


def test_empty_window_is_refused():
    with pytest.raises(ValueError):
        dbt_vars("w.duckdb", "USD", None, (dt.date(2024, 4, 1), dt.date(2024, 4, 1)))


def test_vars_arg_is_json():
    flag, payload = vars_arg({"b": 1, "a": "x"})
    assert flag == "--vars" and json.loads(payload) == {"a": "x", "b": 1}
