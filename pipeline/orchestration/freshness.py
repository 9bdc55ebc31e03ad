"""Freshness of what people read: the published marts and the outreach export, from their as-of day.

A target holds data through its as-of day (the last day with invoices or orders when it was built). It is stale
when the end of that day lies more than RETENTION_MAX_STALENESS_HOURS before now: with the 36-hour default a mart
built at 02:00 from yesterday's files is 2 hours old, and it fails at noon of the day after a missed night.

The as-of day comes from Dagster's event log, not from the warehouse: it is the `as_of_day` that ingest recorded
on the newest `ingest/manifest` materialization before the target's latest materialization (runs execute one
at a time, so that is the ingest the build read). So evaluating freshness opens no DuckDB file and never waits
for, or blocks, a run that writes it.

The checks (`data_is_fresh`, one per target, never blocking) are evaluated by the sensor below without a run,
so a night that never ran still turns them red; they can also be executed from the UI.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dagster as dg

from pipeline.ingest.assets import MANIFEST_KEY
from pipeline.ingest.changes import AS_OF_DAY
from pipeline.quality.settings import QualitySettings

# What people read, by asset key prefix: each mart (dbt and Python) as the UI shows it, the serving file that
# readers open, and the outreach export.
TARGET_PREFIXES: tuple[tuple[str, ...], ...] = (("marts",), ("serving",), ("exports", "outreach"))
CHECK_NAME = "data_is_fresh"
# A failing check is reported again at most this often (its hours grow); a change of verdict or as-of day at once.
REPORT_AGAIN_AFTER = dt.timedelta(hours=1)


def target_keys(assets: Iterable[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    keys = {key for a in assets for key in a.keys}
    return sorted(k for k in keys if any(tuple(k.path[: len(p)]) == p for p in TARGET_PREFIXES))


def hours_stale(as_of: dt.date, now: dt.datetime) -> float:
    """Hours from the end of the as-of day (its data is complete then) to now (aware UTC); 0 before that."""
    complete = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return max(0.0, (now - complete).total_seconds() / 3600)


@dataclass(frozen=True)
class Freshness:
    key: dg.AssetKey
    as_of: dt.date | None  # None: built before any ingest recorded an as-of day
    hours: float | None
    max_hours: float
    built_at: float = 0.0  # timestamp of the target's latest materialization

    @property
    def passed(self) -> bool:
        """Nothing built yet, or built before any ingest recorded an as-of day, is not judged: it passes."""
        return self.hours is None or self.hours <= self.max_hours

    @property
    def description(self) -> str:
        if self.as_of is None:
            return f"not judged: {self.key.to_user_string()} has no data with a recorded as-of day yet"
        verdict = "fresh" if self.passed else "STALE"
        return (
            f"{verdict}: {self.key.to_user_string()} holds data through {self.as_of.isoformat()}, "
            f"{self.hours:,.1f} hours ago (limit RETENTION_MAX_STALENESS_HOURS={self.max_hours:g})"
        )

    def result(self) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            asset_key=self.key,
            check_name=CHECK_NAME,
            passed=self.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=self.description,
            metadata={
                "as_of_day": self.as_of.isoformat() if self.as_of else "",
                "hours_stale": round(self.hours, 1) if self.hours is not None else -1.0,
                "max_staleness_hours": self.max_hours,
            },
        )

    def evaluation(self) -> dg.AssetCheckEvaluation:
        result = self.result()
        return dg.AssetCheckEvaluation(
            asset_key=self.key,
            check_name=CHECK_NAME,
            passed=result.passed,
            metadata=result.metadata,
            severity=result.severity,
            description=result.description,
            blocking=False,
        )


def _as_of_before(instance: dg.DagsterInstance, storage_id: int) -> dt.date | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MANIFEST_KEY, before_storage_id=storage_id), limit=1
    ).records
    value = records[0].asset_materialization.metadata.get(AS_OF_DAY) if records else None
    return dt.date.fromisoformat(value.value) if value is not None and value.value else None


def evaluate(
    instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey], now: dt.datetime, max_hours: float
) -> list[Freshness]:
    """The freshness of every target that has been materialized (the others have no data to judge)."""
    verdicts = []
    for record in instance.get_asset_records(list(keys)):
        latest = record.asset_entry.last_materialization_record
        if latest is None:
            continue
        as_of = _as_of_before(instance, latest.storage_id)
        hours = hours_stale(as_of, now) if as_of else None
        verdicts.append(Freshness(record.asset_entry.asset_key, as_of, hours, max_hours, latest.timestamp))
    return verdicts


def to_report(
    verdicts: Sequence[Freshness], previous: dict[dg.AssetKey, tuple[bool, str, float]], now: dt.datetime
) -> list[Freshness]:
    """The verdicts worth a new evaluation event: new, changed (verdict or as-of day), about a materialization
    newer than the last evaluation (the UI shows checks of the latest one), or failing and not reported for
    REPORT_AGAIN_AFTER. `previous`: per key, (passed, as-of day, timestamp) of the latest evaluation."""
    due = []
    for verdict in verdicts:
        last = previous.get(verdict.key)
        as_of = verdict.as_of.isoformat() if verdict.as_of else ""
        if last is None or (last[0], last[1]) != (verdict.passed, as_of) or verdict.built_at > last[2]:
            due.append(verdict)
        elif not verdict.passed and now.timestamp() - last[2] >= REPORT_AGAIN_AFTER.total_seconds():
            due.append(verdict)
    return due


def _previous(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict[dg.AssetKey, tuple[bool, str, float]]:
    check_keys = [dg.AssetCheckKey(key, CHECK_NAME) for key in keys]
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    previous = {}
    for check_key, record in latest.items():
        evaluation = record.event.dagster_event.event_specific_data if record.event else None
        if isinstance(evaluation, dg.AssetCheckEvaluation):
            as_of = evaluation.metadata.get("as_of_day")
            # the event's own timestamp: the record's create_timestamp may be cut to whole seconds (SQLite)
            previous[check_key.asset_key] = (evaluation.passed, as_of.value if as_of else "", record.event.timestamp)
    return previous


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_freshness(keys: Sequence[dg.AssetKey]) -> tuple[dg.AssetChecksDefinition, dg.SensorDefinition]:
    """The `data_is_fresh` check on every target, and the sensor that evaluates them every minute."""
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=False,
            description="Fails when the data this holds ends more than RETENTION_MAX_STALENESS_HOURS ago (its "
            "as-of day): a nightly run was missed or failed. Evaluated every minute by the sensor "
            "freshness_of_published_data.",
        )
        for key in keys
    ]

    @dg.multi_asset_check(specs=specs, name="freshness_checks", can_subset=True)
    def freshness_checks(context: dg.AssetCheckExecutionContext, quality: QualitySettings):
        selected = [k.asset_key for k in context.selected_asset_check_keys]
        verdicts = {v.key: v for v in evaluate(context.instance, selected, utc_now(), quality.max_staleness_hours)}
        for key in selected:
            yield verdicts.get(key, Freshness(key, None, None, quality.max_staleness_hours)).result()

    @dg.sensor(
        name="freshness_of_published_data",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates the data_is_fresh checks of the published marts and the outreach export without "
        "a run; reports a check when its verdict or as-of day changes, and a failing one hourly.",
    )
    def freshness_of_published_data(context: dg.SensorEvaluationContext, quality: QualitySettings):
        now = utc_now()
        verdicts = evaluate(context.instance, keys, now, quality.max_staleness_hours)
        due = to_report(verdicts, _previous(context.instance, keys), now)
        if not due:
            return dg.SkipReason(f"{len(verdicts)} targets evaluated, no change to report")
        return dg.SensorResult(asset_events=[v.evaluation() for v in due])

    return freshness_checks, freshness_of_published_data
