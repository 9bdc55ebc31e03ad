"""The results table: markdown for the terminal and docs/performance.md, JSON for machines.

docs/performance.md keeps one row per public size between two markers; a run replaces the rows of the sizes
it ran and keeps the others, so S, M and L can be measured in separate runs. XS (the smoke test) never
reaches the docs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.harness import SizeResult
from bench.sizes import PUBLIC

START, END = "<!-- bench-results:start -->", "<!-- bench-results:end -->"
HEADER = (
    "| size | customers | invoice lines | orders | generate s | pipeline s | reference s | ratio "
    "| peak RSS MB | nightly s | nightly % of full | reference = pipeline |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def markdown_row(r: SizeResult) -> str:
    cells = [
        r.size, f"{r.customers:,}", f"{r.invoice_lines:,}", f"{r.orders:,}", f"{r.generate_s:.1f}",
        f"{r.pipeline_s:.1f}", f"{r.reference_s:.1f}", f"{r.ratio:.1f}", f"{r.peak_rss_mb:,.0f}",
        f"{r.nightly_s:.1f}", f"{r.nightly_pct:.0f} %", "yes" if r.reference_matches else "NO",
    ]
    return "| " + " | ".join(cells) + " |"


def markdown_table(results: list[SizeResult]) -> str:
    return "\n".join([HEADER, *(markdown_row(r) for r in results)])


def machine() -> dict[str, object]:
    pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return {"cpus": os.cpu_count(), "memory_gb": round(pages * page_size / 2**30, 1)}


def write_json(results: list[SizeResult], path: Path) -> None:
    path.write_text(json.dumps({"machine": machine(), "results": [r.as_json() for r in results]}, indent=2))


def update_docs(results: list[SizeResult], doc: Path) -> bool:
    """Replace the rows of the public sizes in `results` in the doc's table; False when nothing to write."""
    fresh = {r.size: markdown_row(r) for r in results if r.size in PUBLIC}
    text = doc.read_text()
    if not fresh or START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    body, tail = rest.split(END, 1)
    rows = {line.split("|")[1].strip(): line for line in body.splitlines() if line.startswith("| ") and "---" not in line}
    rows.pop("size", None)
    rows.update(fresh)
    ordered = [rows[s] for s in PUBLIC if s in rows]
    doc.write_text(f"{head}{START}\n{HEADER}\n" + "\n".join(ordered) + f"\n{END}{tail}")
    return True
