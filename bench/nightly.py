"""The nightly increment: the last day of the generated data is held back and landed after the full run.

Simplest correct way: the generator cannot extend a run by one day with the same history (its arrival curve
depends on the end date), and copying a day with shifted ids would invent rows no export would have. So the
full run loads every daily file except the last day's (invoices, orders, customers, churn feedback), and the
nightly run lands exactly those files, as the exporter would the next morning: new invoice lines, new
orders, restatements of earlier rows and late rows, all in files the manifest has not seen. The monthly
files (fx_rates, acquisition_costs) stay in the history: their current month already holds the last day.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

DAILY = ("invoices", "orders", "customers", "churn_feedback")
_DAY = re.compile(r"_(\d{4}-\d{2}-\d{2})\.\w+$")


def last_day(landing: Path) -> str:
    """The latest YYYY-MM-DD among the daily files."""
    days = [m.group(1) for folder in DAILY for p in (landing / folder).glob("*") if (m := _DAY.search(p.name))]
    return max(days)


def hold_back(landing: Path, held: Path, day: str) -> list[str]:
    """Move the daily files of `day` from landing to `held` (same sub-folders); their landing-relative paths."""
    moved = []
    for folder in DAILY:
        for path in sorted((landing / folder).glob(f"*_{day}.*")):
            (held / folder).mkdir(parents=True, exist_ok=True)
            shutil.move(path, held / folder / path.name)
            moved.append(f"{folder}/{path.name}")
    return moved


def land(held: Path, landing: Path, files: list[str]) -> None:
    """Put the held-back files into the landing folder."""
    for rel in files:
        shutil.copy2(held / rel, landing / rel)
