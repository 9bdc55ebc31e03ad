"""The report as one self-contained HTML file: it opens offline, from an email attachment or a shared drive.

Charts are PNG data URIs, the CSS is inline, the fonts are the reader's system fonts; there is no script and
no link to anything outside the file. Every value from the warehouse is escaped.
"""

from __future__ import annotations

import base64
from html import escape
from typing import TYPE_CHECKING

from pipeline.reporting.definitions import DEFINITIONS
from pipeline.reporting.quality_status import quality_summary
from pipeline.reporting.tables import LATEST_COLUMNS, latest_periods

if TYPE_CHECKING:
    from pipeline.reporting.kpis import Kpi
    from pipeline.reporting.report import Chart, Report

CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --good: #15803d;
        --bad: #b91c1c; --card: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; line-height: 1.45; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { margin: 0 0 4px; font-size: 1.7rem; }
h2 { margin: 36px 0 12px; font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 6px; }
.sub { color: var(--muted); margin: 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.kpi .label { color: var(--muted); font-size: .85rem; }
.kpi .value { font-size: 1.6rem; font-weight: 650; }
.kpi .change { font-size: .85rem; color: var(--muted); }
.kpi .change.good { color: var(--good); }
.kpi .change.bad { color: var(--bad); }
figure { margin: 0 0 28px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin-bottom: 12px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--card); font-weight: 600; }
td.num, th.num { text-align: right; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { font-weight: 600; }
.status.passed { color: var(--good); }
.status.failed { color: var(--bad); }
dl dt { font-weight: 600; margin-top: 10px; }
dl dd { margin: 2px 0 0; }
.note { color: var(--muted); font-size: .9rem; }
@media print { h2 { break-after: avoid; } figure { break-inside: avoid; } }
"""


def render(report: Report) -> str:
    data = report.data
    as_of = f"data as of {data.as_of}" if data.as_of is not None else "no data loaded yet"
    title = f"Retention report, {as_of}"
    sections = [
        _kpi_section(report),
        _charts_section(report.charts),
        _latest_section(report),
        _definitions_section(),
        _quality_section(report),
    ]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body><main>",
        "<h1>Retention report</h1>",
        f'<p class="sub">{escape(as_of.capitalize())}; generated {report.generated_at:%Y-%m-%d %H:%M} UTC '
        "by <code>retention report</code>.</p>",
        *sections,
        "</main></body>",
        "</html>",
        "",
    ])


def _kpi_section(report: Report) -> str:
    head = report.headline
    if head.period is None:
        intro = '<p class="note">No complete month yet: the headline numbers appear after the first full month.</p>'
    else:
        against = f", compared with {head.previous_period:%B %Y}" if head.previous_period else ""
        intro = f'<p class="sub">Latest complete month: <strong>{head.period:%B %Y}</strong>{against}.</p>'
    cards = [_kpi_card(k, head.previous_period) for k in head.kpis]
    data = report.data
    on = f" on {data.as_of}" if data.as_of is not None else ""
    cards.append(
        '<div class="kpi" data-kpi="at_risk_customers"><div class="label">At-risk customers</div>'
        f'<div class="value">{data.at_risk_total:,}</div>'
        f'<div class="change">active customers with a warning sign{escape(on)}</div></div>'
    )
    return f'<section id="kpis"><h2>Headline</h2>{intro}<div class="kpis">{"".join(cards)}</div></section>'


def _kpi_card(kpi: Kpi, previous_period) -> str:
    tone = {True: " good", False: " bad"}.get(kpi.improved, "")
    versus = f" vs {previous_period:%b %Y}" if kpi.change is not None else ""
    return (
        f'<div class="kpi" data-kpi="{escape(kpi.spec.key)}"><div class="label">{escape(kpi.spec.label)}</div>'
        f'<div class="value">{escape(kpi.formatted_value())}</div>'
        f'<div class="change{tone}">{escape(kpi.formatted_change() + versus)}</div></div>'
    )


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _charts_section(charts: tuple[Chart, ...]) -> str:
    figures = [
        f'<figure id="{escape(c.key)}"><img src="{data_uri(c.png)}" alt="{escape(c.title)}">'
        f"<figcaption><strong>{escape(c.title)}.</strong> {escape(c.caption)}</figcaption></figure>"
        for c in charts
    ]
    return f'<section id="charts"><h2>Charts</h2>{"".join(figures)}</section>'


def _table(header, rows: list[list[object]], numeric: set[int] = frozenset()) -> str:
    head = "".join(
        f'<th{" class=num" if i in numeric else ""}>{escape(str(h))}</th>' for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>" + "".join(
            f'<td{" class=num" if i in numeric else ""}>{escape(str(c))}</td>' for i, c in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _latest_section(report: Report) -> str:
    data = report.data
    months = latest_periods(data.retention, data.revenue)
    months_html = _table(LATEST_COLUMNS, months, numeric=set(range(1, 9))) if months else (
        '<p class="note">No month built yet.</p>'
    )
    risk_rows = [
        [r.priority_rank, r.customer_id, r.name, r.segment, f"{float(r.value_at_risk):,.2f}", r.reasons,
         _money(r.value_at_stake)]
        for r in data.at_risk.itertuples()
    ]
    risk_html = _table(
        ("priority", "customer", "name (masked)", "segment", "value at risk", "reasons", "value at stake"),
        risk_rows,
        {0, 4, 6},
    ) if risk_rows else '<p class="note">No customer at risk.</p>'
    return (
        f'<section id="latest"><h2>Latest months</h2>{months_html}'
        f"<h2>Top at-risk customers by value</h2><p class=\"sub\">{data.at_risk_total:,} customers at risk in "
        f"total; the full list with contact details is the outreach export, not this report.</p>{risk_html}"
        "</section>"
    )


def _money(value: object) -> str:
    """Two decimals with thousands separators; "n/a" where no model gives a value (NULL)."""
    return "n/a" if value is None or value != value else f"{float(value):,.2f}"


def _definitions_section() -> str:
    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in DEFINITIONS)
    return f'<section id="definitions"><h2>What the numbers mean</h2><dl>{items}</dl></section>'


def _quality_section(report: Report) -> str:
    summary = quality_summary(report.data)
    css_class = summary.status.replace(" ", "-")
    parts = [f'<p>Overall: <span class="status {css_class}">{escape(summary.status)}</span>. '
             f"{escape(summary.sentence)}</p>"]
    if summary.suites:
        parts.append(_table(("suite", "table", "status", "rows checked", "unexpected values", "failed expectations",
                             "validated (UTC)"), summary.suites, {3, 4}))
    parts.append(_table(("landing files and rows", "count"), summary.ingest, {1}))
    if summary.quarantine:
        parts.append(_table(("quarantine reason", "rows"), summary.quarantine, {1}))
    if report.data.missing:
        parts.append(f'<p class="note">Not built yet: {escape(", ".join(report.data.missing))}.</p>')
    return f'<section id="data-quality"><h2>Data quality of the run</h2>{"".join(parts)}</section>'

