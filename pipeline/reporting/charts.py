"""The report's charts as PNG bytes: retention and churn trend, MRR movements, cohort heatmap, top at-risk,
subscription survival.

matplotlib's object API on the Agg canvas (no pyplot: no global figure state, safe inside a Dagster step).
Deterministic on purpose: fixed size and dpi, the DejaVu font matplotlib ships, months as text labels, and
no software/timestamp chunks in the PNG, so the same data gives the same bytes and a report can be diffed.
A chart without data is still a picture that says so, so every report has the same five figures.
"""

from __future__ import annotations

import io

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.2, 100
TREND_MONTHS = 24  # two years: long enough for a trend and a seasonal comparison, short enough to read
STYLE = {
    # Labels hold customer ids and names from the data: plain text, never matplotlib's mathtext (`$...$`), which
    # would render them as formulas or fail the report on an unknown `\command`.
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "axes.axisbelow": True,
}
COLORS = {
    "retention": "#2563eb",
    "churn": "#dc2626",
    "mrr_churn": "#f59e0b",
    "new_mrr": "#16a34a",
    "expansion_mrr": "#65a30d",
    "reactivation_mrr": "#0891b2",
    "contraction_mrr": "#f59e0b",
    "churned_mrr": "#dc2626",
    "net": "#111827",
    "at_risk": "#b91c1c",
}
UP = (("new_mrr", "New"), ("expansion_mrr", "Expansion"), ("reactivation_mrr", "Reactivation"))
DOWN = (("contraction_mrr", "Contraction"), ("churned_mrr", "Churned"))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(rows: int = 1, height: float = HEIGHT_IN) -> tuple[Figure, list]:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _placeholder(title: str, message: str) -> bytes:
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        ax.set_title(title, loc="left", fontweight="bold")
        ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12, color="#6b7280", transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)


def _month_labels(periods: pd.Series) -> list[str]:
    return [pd.Timestamp(p).strftime("%Y-%m") for p in periods]


def _thin_ticks(ax, labels: list[str]) -> None:
    """Every month up to a year, then every third: two years of labels would overlap."""
    every = 1 if len(labels) <= 12 else 3
    ax.set_xticks(range(len(labels)))
    last = len(labels) - 1  # counted from the latest month, so the month the headline is about is labelled
    shown = [label if (last - i) % every == 0 else "" for i, label in enumerate(labels)]
    ax.set_xticklabels(shown, rotation=45, ha="right")


def retention_trend(months: pd.DataFrame) -> bytes:
    """Customer retention on top; customer churn and gross MRR churn below (a few percent: own scale)."""
    title = "Retention and churn per month"
    recent = months.tail(TREND_MONTHS)
    if recent.empty:
        return _placeholder(title, "No complete month yet")
    labels = _month_labels(recent["period_start"])
    x = range(len(labels))
    with matplotlib.rc_context(STYLE):
        fig, (top, bottom) = _figure(rows=2, height=5.0)
        top.set_title(title, loc="left", fontweight="bold")
        top.plot(x, recent["retention_rate"].astype(float), marker="o", ms=3, color=COLORS["retention"],
                 label="Retention rate")
        # (end - new) / start: reactivated customers count at the end but not at the start, so it can pass 100
        top.axhline(100, color="#999999", linewidth=0.8, linestyle="--")
        top.set_ylabel("(end - new) / start, %")
        top.legend(loc="lower left", frameon=False)
        bottom.plot(x, recent["churn_rate"].astype(float), marker="o", ms=3, color=COLORS["churn"],
                    label="Churn rate (customers)")
        bottom.plot(x, recent["gross_mrr_churn_rate"].astype(float), marker="s", ms=3, color=COLORS["mrr_churn"],
                    label="Gross MRR churn")
        bottom.set_ylabel("% lost in the month")
        bottom.set_ylim(bottom=0)
        bottom.legend(loc="upper left", frameon=False, ncols=2)
        _thin_ticks(bottom, labels)
        return _png(fig)


def mrr_movements(months: pd.DataFrame) -> bytes:
    """Gains stacked above zero, losses below, and the net change as a line: where MRR came from and went."""
    title = "MRR movements per month"
    recent = months.tail(TREND_MONTHS)
    if recent.empty:
        return _placeholder(title, "No complete month yet")
    labels = _month_labels(recent["period_start"])
    x = list(range(len(labels)))
    with matplotlib.rc_context(STYLE):
        fig, (ax,) = _figure()
        ax.set_title(title, loc="left", fontweight="bold")
        _stack(ax, x, recent, UP, sign=1.0)
        _stack(ax, x, recent, DOWN, sign=-1.0)
        net = sum(recent[c].astype(float) for c, _ in UP) - sum(recent[c].astype(float) for c, _ in DOWN)
        ax.plot(x, net, color=COLORS["net"], marker="o", ms=3, lw=1.2, label="Net change")
        ax.axhline(0, color="#374151", lw=0.8)
        ax.set_ylabel("MRR (reporting currency)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        _thin_ticks(ax, labels)
        return _png(fig)


def _stack(ax, x: list[int], frame: pd.DataFrame, movements: tuple, sign: float) -> None:
    base = pd.Series(0.0, index=frame.index)
    for column, label in movements:
        values = frame[column].astype(float).fillna(0.0) * sign
        ax.bar(x, values, bottom=base, color=COLORS[column], width=0.75, label=label)
        base = base + values


def cohort_heatmap(cohorts: pd.DataFrame) -> bytes:
    """Rows are the monthly cohorts (with their size), columns months since start, cells % still active."""
    title = "Cohort retention (% of the cohort active)"
    if cohorts.empty:
        return _placeholder(title, "No cohort yet")
    grid = cohorts.pivot(index="cohort_period_start", columns="period_offset", values="customer_retention_rate")
    grid = grid.sort_index().astype(float)
    sizes = cohorts.groupby("cohort_period_start")["cohort_size"].first().reindex(grid.index)
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig, (ax,) = _figure(height=max(3.0, 0.32 * len(grid) + 1.4))
        ax.set_title(title, loc="left", fontweight="bold")
        image = ax.imshow(grid.to_numpy(), cmap="Blues", vmin=0, vmax=100, aspect="auto")
        for (row, col), value in _cells(grid):  # inside the axes: the layout need not measure hundreds of them
            ax.text(col, row, f"{value:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if value > 60 else "#111827", in_layout=False)
        ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
        ax.set_yticks(range(len(grid)), [f"{pd.Timestamp(c):%Y-%m} (n={int(n)})" for c, n in sizes.items()])
        ax.set_xlabel("months since the cohort started")
        fig.colorbar(image, ax=ax, shrink=0.8, label="% active")
        return _png(fig)


def _cells(grid: pd.DataFrame):
    values = grid.to_numpy()
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            if values[row, col] == values[row, col]:  # NaN: the cohort has not reached this month yet
                yield (row, col), values[row, col]


def top_at_risk(at_risk: pd.DataFrame) -> bytes:
    """The at-risk customers with the most value at stake (masked names, their call priority as #rank), largest
    first, with the reasons beside each bar."""
    title = f"Top {len(at_risk)} at-risk customers by value at risk"
    if at_risk.empty:
        return _placeholder("Top at-risk customers", "No customer at risk")
    rows = at_risk.iloc[::-1]  # barh draws bottom-up: rank 1 on top
    labels = [f"#{r.priority_rank} {r.name or '(no name)'} ({r.customer_id})" for r in rows.itertuples()]
    values = rows["value_at_risk"].astype(float).to_numpy()
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig, (ax,) = _figure(height=max(3.0, 0.38 * len(rows) + 1.2))
        ax.set_title(title, loc="left", fontweight="bold")
        ax.barh(range(len(rows)), values, color=COLORS["at_risk"], height=0.65)
        ax.set_yticks(range(len(rows)), labels)
        ax.set_xlim(0, values.max() * 1.9 if values.max() > 0 else 1)
        for y, (value, reasons) in enumerate(zip(values, rows["reasons"], strict=True)):
            ax.text(value, y, f"  {value:,.0f}  {reasons}", va="center", fontsize=7.5, color="#374151")
        ax.set_xlabel("value at risk (reporting currency)")
        return _png(fig)


SURVIVAL_COHORTS = 8  # the latest signup quarters drawn: two years of starts stay readable as lines
SEGMENT_COLORS = ("#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#0891b2", "#dc2626")


def survival_curves(survival: pd.DataFrame) -> bytes:
    """Share of subscribers still subscribing k months after their first MRR day (Kaplan-Meier): everyone and
    each segment with the 95 % interval shaded on top, the latest signup quarters below."""
    title = "Subscription survival (Kaplan-Meier)"
    if survival.empty:
        return _placeholder(title, "No subscriber yet")
    with matplotlib.rc_context(STYLE):
        fig, (top, bottom) = _figure(rows=2, height=6.0)
        top.set_title(title, loc="left", fontweight="bold")
        segments = survival[survival["group_type"].isin(["all", "segment"])]
        for i, (name, curve) in enumerate(segments.groupby("group_value", sort=True)):
            color = COLORS["net"] if name == "all" else SEGMENT_COLORS[i % len(SEGMENT_COLORS)]
            _survival_step(top, curve, color, f"{name} (n={int(curve['at_risk'].iloc[0]):,})", band=True)
        top.set_ylabel("% still subscribing")
        top.legend(loc="lower left", frameon=False, ncols=2, fontsize=8)
        cohorts = survival[survival["group_type"] == "cohort_quarter"]
        latest = sorted(cohorts["group_value"].unique())[-SURVIVAL_COHORTS:]
        for i, name in enumerate(latest):
            curve = cohorts[cohorts["group_value"] == name]
            shade = 0.35 + 0.65 * (i + 1) / len(latest)
            _survival_step(bottom, curve, matplotlib.colormaps["Blues"](shade), name, band=False)
        bottom.set_ylabel("% still subscribing")
        bottom.set_xlabel("months since the first MRR day")
        if latest:
            bottom.legend(loc="lower left", frameon=False, ncols=4, fontsize=8, title="signup quarter")
        for ax in (top, bottom):
            ax.set_ylim(0, 102)
        return _png(fig)


def _survival_step(ax, curve: pd.DataFrame, color, label: str, band: bool) -> None:
    curve = curve.sort_values("months_since_start")
    months = curve["months_since_start"].astype(int).to_numpy()
    ax.step(months, 100 * curve["survival"].astype(float), where="post", color=color, lw=1.4, label=label)
    if band:
        ax.fill_between(months, 100 * curve["ci_lower"].astype(float), 100 * curve["ci_upper"].astype(float),
                        step="post", color=color, alpha=0.12, lw=0)
