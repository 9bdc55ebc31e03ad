"""The data-quality status of the latest run, in the words the report uses: passed or failed per suite.

Reads what the run left in the warehouse: the latest Great Expectations result per suite and table
(`quality.validation_results`) and the ingest counts (`ingest.manifest`, `ingest.quarantine`). The
reconciliation checks are not stored in the warehouse; they block the run when they fail, so a report built
by a successful run has passed them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pipeline.reporting.data import ReportData


@dataclass(frozen=True)
class QualitySummary:
    status: str  # passed, failed, or not run (no suite stored yet)
    sentence: str
    suites: list[list[str]]  # suite, table, status, rows checked, unexpected, failed expectations, validated
    ingest: list[list[str]]
    quarantine: list[list[str]]


def _suite_rows(validation: pd.DataFrame) -> list[list[str]]:
    return [
        [
            r.check_name,
            r.asset_key,
            "passed" if r.success else "failed",
            f"{int(r.evaluated):,}",
            f"{int(r.unexpected):,}",
            r.failed_expectations if isinstance(r.failed_expectations, str) else "",
            pd.Timestamp(r.validated_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in validation.itertuples()
    ]


def _ingest_rows(ingest: dict[str, object]) -> list[list[str]]:
    labels = (
        ("files_loaded", "files loaded"),
        ("files_rejected", "files rejected whole"),
        ("rows_loaded", "rows loaded"),
        ("rows_quarantined", "rows quarantined"),
    )
    return [[label, f"{int(ingest.get(key) or 0):,}"] for key, label in labels]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def quality_summary(data: ReportData) -> QualitySummary:
    suites = _suite_rows(data.validation)
    failed = [row for row in suites if row[2] == "failed"]
    rejected = int(data.ingest.get("files_rejected") or 0)
    quarantined = int(data.ingest.get("rows_quarantined") or 0)
    if not suites:
        status, sentence = "not run", "No data-quality suite has run on this warehouse yet."
    elif failed:
        status = "failed"
        sentence = f"{len(failed)} of {len(suites)} suites failed their latest validation."
    else:
        status, sentence = "passed", f"All {len(suites)} suites passed their latest validation."
    if rejected or quarantined:
        sentence += (
            f" Ingest set aside {_count(rejected, 'whole file')} and {_count(quarantined, 'row')}"
            " (see ingest.quarantine);"
            " the numbers above are computed without them."
        )
    quarantine = [[r.reason, f"{int(r.rows):,}"] for r in data.quarantine.itertuples()]
    return QualitySummary(status, sentence, suites, _ingest_rows(data.ingest), quarantine)
