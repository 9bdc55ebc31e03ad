"""Small tables shared by the HTML report, the Dagster metadata and the terminal summary.

Values are formatted once here (text cells), so the three places show the same numbers the same way.
"""

from __future__ import annotations

import pandas as pd

from pipeline.reporting.kpis import format_value

LATEST_MONTHS = 6
LATEST_COLUMNS = (
    "month", "customers (start -> end)", "new", "churned", "retention rate", "churn rate", "MRR at end",
    "gross MRR churn", "NRR",
)


def latest_periods(retention: pd.DataFrame, revenue: pd.DataFrame, n: int = LATEST_MONTHS) -> list[list[str]]:
    """The latest n months, newest first, the month in progress marked: what changed lately at a glance."""
    both = retention.merge(revenue.drop(columns=["is_complete"]), on="period_start", how="inner")
    rows = []
    for row in both.sort_values("period_start", ascending=False).head(n).itertuples():
        month = pd.Timestamp(row.period_start).strftime("%Y-%m") + ("" if row.is_complete else " (in progress)")
        rows.append([
            month,
            f"{row.customers_start:,} -> {row.customers_end:,}",
            f"{row.customers_new:,}",
            f"{row.customers_churned:,}",
            format_value(_float(row.retention_rate), "pct"),
            format_value(_float(row.churn_rate), "pct"),
            format_value(_float(row.mrr_end), "money"),
            format_value(_float(row.gross_mrr_churn_rate), "pct"),
            format_value(_float(row.net_revenue_retention), "pct"),
        ])
    return rows


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def markdown_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table, as Dagster's UI renders it; pipes in cells are escaped."""
    def line(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)])


def text_table(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> list[str]:
    """Plain aligned columns for a terminal: text left, numbers right, a rule under the header."""
    cells = [list(map(str, header)), *([str(c) for c in r] for r in rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [all(_looks_numeric(r[i]) for r in cells[1:]) and len(cells) > 1 for i in range(len(header))]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return [line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])]


def _looks_numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace("%", "").replace("pp", "").replace("\u2212", "-").strip()
    stripped = stripped.lstrip("+-")
    return stripped.replace(".", "", 1).isdigit() or cell in ("n/a", "")
