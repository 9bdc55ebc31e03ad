"""Entry point: simulate the business, then write every landing entity. See docs/sample-data.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.sample_data import layout
from pipeline.sample_data.addons import simulate_addons
from pipeline.sample_data.customers import generate_customers
from pipeline.sample_data.days import day_number
from pipeline.sample_data.density import Density, profile
from pipeline.sample_data.invoices import build_invoice_rows
from pipeline.sample_data.orders import build_order_rows
from pipeline.sample_data.reference import build_acquisition_costs, build_churn_feedback, build_fx_rates
from pipeline.sample_data.subscriptions import new_subscriptions, simulate
from pipeline.sample_data.writer import Output, connect, write_output

MIN_CUSTOMERS = 100  # below this the malformed rows and restatements may have nothing to copy


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    customers: int
    seed: int
    start: date
    end: date
    files: dict[str, int]
    rows: dict[str, int]
    density: str = "standard"


def generate(
    out_dir: Path,
    customers: int = 2000,
    seed: int = 42,
    start: date = date(2023, 1, 1),
    end: date = date(2025, 12, 10),
    progress: Callable[[str], None] | None = None,
    density: str | Density = "standard",
) -> GenerationSummary:
    """Write a deterministic landing folder: `customers` customers active from start to end (inclusive).

    Only the entity sub-folders (invoices, orders, customers, fx_rates, acquisition_costs, churn_feedback)
    are cleared and rewritten; other files in out_dir stay. `density` ("standard" or "dense", see density.py)
    sets how much business each customer makes; the customers themselves are the same at every density.
    """
    business = profile(density)
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, got {customers}")
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    say = progress or (lambda _line: None)
    first_day, end_day = day_number(start), day_number(end)
    # spawn(n) children do not depend on n, so the seventh stream (add-ons) leaves the first six unchanged
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    say(f"customers: simulating {customers}")
    people = generate_customers(rngs[0], customers, first_day, end_day)
    say("subscriptions: simulating billing periods")
    invoices, cancellations = _subscription_business(rngs[1], rngs[2], rngs[6], people, end_day, business)
    say(f"orders: simulating shop purchases ({invoices.shape[0]} invoice rows so far)")
    frames = {
        "invoices": invoices,
        "orders": build_order_rows(rngs[3], people, end_day, business),
        "customers": people,
        "fx_rates": build_fx_rates(rngs[4], first_day, end_day),
        "acquisition_costs": build_acquisition_costs(rngs[5], people, first_day, end_day),
        "churn_feedback": build_churn_feedback(rngs[5], cancellations, end_day),
    }
    files = _write_all(Path(out_dir), frames, say)
    rows = {name: int(len(frame)) for name, frame in frames.items()}
    return GenerationSummary(Path(out_dir), customers, seed, start, end, files, rows, business.name)


def _subscription_business(
    rng_subs: np.random.Generator,
    rng_invoices: np.random.Generator,
    rng_addons: np.random.Generator,
    people: pd.DataFrame,
    end_day: int,
    business: Density,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Invoice rows and cancellation events of every subscriber (kinds 'subscription' and 'both')."""
    subscribers = people[people["kind"].to_numpy() != 1]
    first = new_subscriptions(
        rng_subs,
        1,
        subscribers["cust"].to_numpy(np.int64),
        subscribers["segment"].to_numpy(),
        subscribers["currency"].to_numpy(),
        subscribers["created_day"].to_numpy(),
        business.annual_share,
    )
    lines, changes, cancellations = simulate(rng_subs, first, end_day, business.annual_share).frames()
    addons = simulate_addons(rng_addons, lines, end_day, business)
    return build_invoice_rows(rng_invoices, lines, changes, end_day, addons), cancellations


def _write_all(out_dir: Path, frames: dict[str, pd.DataFrame], say: Callable[[str], None]) -> dict[str, int]:
    """Write each entity with its layout; ids are zero-padded to a width that fits the largest number."""
    widths = {
        "cus": layout.id_width(len(frames["customers"])),
        "inv": layout.id_width(int(frames["invoices"]["inv"].max())),
        "sub": layout.id_width(int(frames["invoices"]["sub"].max())),
        "ord": layout.id_width(int(frames["orders"]["order_no"].max()) if len(frames["orders"]) else 0),
    }
    outputs = [
        Output("invoices", frames["invoices"], "file_day", False, False, layout.invoices_sql(widths)),
        Output("orders", frames["orders"], "file_day", False, True, layout.orders_sql(widths)),
        Output("customers", frames["customers"], "created_day", False, False, layout.customers_sql(widths)),
        Output("fx_rates", frames["fx_rates"], "file_month", True, True, layout.fx_rates_sql(widths)),
        Output(
            "acquisition_costs",
            frames["acquisition_costs"],
            "file_month",
            True,
            False,
            layout.acquisition_costs_sql(widths),
        ),
        Output(
            "churn_feedback",
            frames["churn_feedback"],
            "file_day",
            False,
            False,
            layout.churn_feedback_sql(widths),
        ),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    with connect() as con:
        return {output.folder: write_output(con, out_dir, output, say) for output in outputs}
