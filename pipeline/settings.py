"""Every RETENTION_* setting in one place: its type, its one default and the values it accepts.

`load_settings()` reads them from the environment and from `.env` in the working directory (the environment
wins), for every command: `retention ...`, `dagster dev` and the runs it launches. Everything else receives
values from a `Settings`: the Dagster resources and the dbt vars are built from it in `pipeline/definitions.py`,
so no other module reads the environment or repeats a default. Paths are relative to the working directory.

A bad value raises `SettingsError` with one line per bad variable, naming the variable, the value and the
accepted form; the command stops before anything runs (exit 2).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import pycountry
from croniter import croniter
from pydantic import AfterValidator, Field, HttpUrl, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "RETENTION_"
DUCKDB_SIZE = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


class SettingsError(ValueError):
    """One or more settings hold a value that cannot be used; the message has one line per variable."""


def accepts(form: str, **constraints: Any) -> Any:
    """A field's constraints plus the accepted form that an error message shows."""
    return Field(json_schema_extra={"accepts": form}, **constraints)


def _currency(value: str) -> str:
    code = value.strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("unknown currency")
    return code


def _duckdb_size(value: str) -> str:
    if not DUCKDB_SIZE.fullmatch(value.strip()):
        raise ValueError("not a size")
    return value.strip()


def _cron(value: str) -> str:
    expression = " ".join(value.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise ValueError("not a cron expression")
    return expression


def _http_url(value: str | None) -> str | None:
    """An http(s) URL with a host, kept as written (pydantic's HttpUrl would add a trailing slash)."""
    if value is None:
        return None
    TypeAdapter(HttpUrl).validate_python(value.strip())
    return value.strip()


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return value


Days = Annotated[int, accepts("a whole number of days, at least 1", ge=1)]
Percent = Annotated[float, accepts("a percentage from 0 to 100", ge=0, le=100)]


class Settings(BaseSettings):
    """The settings of one deployment. Field names are the variable names without RETENTION_."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    landing_dir: Path = Path("data/landing")
    warehouse: Path = Path("data/warehouse.duckdb")
    serving_file: Path = Path("data/serving.duckdb")
    reporting_currency: Annotated[str, AfterValidator(_currency), accepts("an ISO 4217 code such as USD or EUR")] = "USD"
    start: Annotated[dt.date, accepts("a date as YYYY-MM-DD")] = dt.date(2021, 1, 1)
    activity_window_days: Annotated[int | None, accepts("a whole number of days, at least 1, or empty to derive it",
                                                        ge=1)] = None
    duckdb_memory_limit: Annotated[str, AfterValidator(_duckdb_size), accepts("a size such as 4GB or 512MB")] = "4GB"
    duckdb_threads: Annotated[int | None, accepts("a whole number, at least 1, or empty for all cores", ge=1)] = None
    dbt_project_dir: Path = Path("dbt_project")
    export_dir: Path = Path("data/exports")
    report_path: Path = Path("data/reports/retention_report.html")
    overdue_factor: Annotated[float, accepts("a number above 0", gt=0)] = 1.5
    inactive_days: Days = 90
    payment_grace_days: Annotated[int, accepts("a whole number of days, at least 0", ge=0)] = 14
    p_alive_threshold: Annotated[float, accepts("a probability above 0 and at most 1", gt=0, le=1)] = 0.5
    mrr_contraction_min_pct: Percent = 5.0
    clv_months: Annotated[int, accepts("a whole number of months from 1 to 120", ge=1, le=120)] = 12
    # A fraction, like the gross margin: 10 % a year is 0.10 (a value above 1, such as 10, is refused, not read as %).
    discount_rate: Annotated[float, accepts("an annual rate as a fraction from 0 to 1, such as 0.10 for 10 %",
                                            ge=0, le=1)] = 0.10
    gross_margin: Annotated[float, accepts("a fraction above 0 and at most 1, such as 0.6 for 60 %", gt=0, le=1)] = 1.0
    max_staleness_hours: Annotated[float, accepts("a number of hours above 0", gt=0)] = 36.0
    max_quarantine_pct: Percent = 5.0
    nightly_cron: Annotated[str, AfterValidator(_cron), accepts("a cron expression of 5 fields such as '0 2 * * *'")] = (
        "0 2 * * *"
    )
    nightly_timezone: Annotated[str, AfterValidator(_timezone), accepts("an IANA time zone such as UTC or Europe/Berlin")] = (
        "UTC"
    )
    alert_webhook_url: Annotated[str | None, AfterValidator(_http_url),
                                 accepts("an http:// or https:// URL, or empty to log alerts only")] = None
    ui_url: Annotated[str, AfterValidator(_http_url), accepts("an http:// or https:// URL")] = "http://127.0.0.1:3000"
    # Dagster's own variable, read here so that `.env` can hold it too: where run history is kept.
    dagster_home: Path | None = Field(None, validation_alias="DAGSTER_HOME")


def variable(field: str) -> str:
    return "DAGSTER_HOME" if field == "dagster_home" else PREFIX + field.upper()


def _accepted_form(field: str) -> str:
    info = Settings.model_fields[field]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    for meta in info.metadata:
        extra = {**extra, **(getattr(meta, "json_schema_extra", None) or {})}
    return str(extra.get("accepts", "a valid value"))


def describe(error: ValidationError) -> str:
    """One line per bad variable: name, value, accepted form."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        if field not in Settings.model_fields:
            field = next((f for f in Settings.model_fields if variable(f) == field), field)
        lines.append(f"{variable(field)}={item['input']!r} is not accepted: expected {_accepted_form(field)}")
    return "\n".join(dict.fromkeys(lines))


def load_settings(**values: Any) -> Settings:
    """The settings from the environment and `.env`; `values` (field names) take precedence (tests)."""
    try:
        return Settings(**values)
    except ValidationError as error:
        raise SettingsError(describe(error)) from None
