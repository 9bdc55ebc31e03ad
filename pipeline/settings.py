"""Every RETENTION_* environment variable, typed, with its default. The only module that reads the environment.

Paths are relative to the current directory (the repository root when you follow the README), which is where
`dagster dev` and the `retention` command are started from.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from dataclasses import dataclass
from pathlib import Path


def _cron(name: str, default: str) -> str:
    raw = " ".join(_get(name, default).split())
    if len(raw.split(" ")) != 5:
        raise SettingsError(f"{name}={raw!r} is not a cron expression of 5 fields (minute hour day month weekday)")
    return raw


def _timezone(name: str, default: str) -> str:
    raw = _get(name, default)
    try:
        zoneinfo.ZoneInfo(raw)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"{name}={raw!r} is not an IANA time zone such as UTC or Europe/Berlin") from exc
    return raw


class SettingsError(ValueError):
    """A RETENTION_* variable holds a value that cannot be used."""


def _get(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _date(name: str, default: str) -> dt.date:
    raw = _get(name, default)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a date (expected YYYY-MM-DD)") from exc


def _positive_float(name: str, default: str, upper: float | None = None) -> float:
    raw = _get(name, default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0 or (upper is not None and value > upper):
        limit = f" and at most {upper}" if upper is not None else ""
        raise SettingsError(f"{name}={raw!r} must be a number above 0{limit}")
    return value


def _positive_int(name: str, default: str) -> int:
    value = _optional_positive_int(name)
    return int(default) if value is None else value


def _optional_positive_int(name: str) -> int | None:
    raw = _get(name, "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name}={raw!r} is not a positive whole number")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    reporting_currency: str
    start: dt.date
    activity_window_days: int | None  # None: derived from the data (3 x median purchase gap)
    duckdb_memory_limit: str
    duckdb_threads: int | None
    dbt_project_dir: Path
    dagster_home: Path | None  # Dagster's own DAGSTER_HOME: when set, runs are recorded there
    export_dir: Path
    overdue_factor: float
    inactive_days: int
    payment_grace_days: int
    p_alive_threshold: float
    mrr_contraction_min_pct: float
    max_staleness_hours: float
    max_quarantine_pct: float
    nightly_cron: str
    nightly_timezone: str
    report_path: Path = Path("data/reports/retention_report.html")

    @classmethod
    def from_env(cls) -> Settings:
        currency = _get("RETENTION_REPORTING_CURRENCY", "USD").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise SettingsError(f"RETENTION_REPORTING_CURRENCY={currency!r} is not an ISO 4217 code")
        return cls(
            landing_dir=Path(_get("RETENTION_LANDING_DIR", "data/landing")),
            warehouse=Path(_get("RETENTION_WAREHOUSE", "data/warehouse.duckdb")),
            reporting_currency=currency,
            start=_date("RETENTION_START", "2021-01-01"),
            activity_window_days=_optional_positive_int("RETENTION_ACTIVITY_WINDOW_DAYS"),
            duckdb_memory_limit=_get("RETENTION_DUCKDB_MEMORY_LIMIT", "4GB"),
            duckdb_threads=_optional_positive_int("RETENTION_DUCKDB_THREADS"),
            dbt_project_dir=Path(_get("RETENTION_DBT_PROJECT_DIR", "dbt_project")),
            dagster_home=Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else None,
            export_dir=Path(_get("RETENTION_EXPORT_DIR", "data/exports")),
            overdue_factor=_positive_float("RETENTION_OVERDUE_FACTOR", "1.5"),
            inactive_days=_positive_int("RETENTION_INACTIVE_DAYS", "90"),
            payment_grace_days=_positive_int("RETENTION_PAYMENT_GRACE_DAYS", "14"),
            p_alive_threshold=_positive_float("RETENTION_P_ALIVE_THRESHOLD", "0.5", upper=1.0),
            mrr_contraction_min_pct=_positive_float("RETENTION_MRR_CONTRACTION_MIN_PCT", "5", upper=100.0),
            max_staleness_hours=_positive_float("RETENTION_MAX_STALENESS_HOURS", "36"),
            max_quarantine_pct=_positive_float("RETENTION_MAX_QUARANTINE_PCT", "5", upper=100.0),
            nightly_cron=_cron("RETENTION_NIGHTLY_CRON", "0 2 * * *"),
            nightly_timezone=_timezone("RETENTION_NIGHTLY_TIMEZONE", "UTC"),
            report_path=Path(_get("RETENTION_REPORT_PATH", "data/reports/retention_report.html")),
        )
