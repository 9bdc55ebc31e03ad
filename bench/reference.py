"""`python -m bench.reference LANDING OUT.json`: run reference.sql over a landing folder in a fresh process.

A separate process so the harness measures it exactly like the pipeline (wall time, RSS of the tree, cold
start included). The script reads paths relative to the landing folder, so it runs with that as the working
directory; its last statement returns the monthly MRR movements, written to OUT.json for the comparison.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).with_name("reference.sql")


def monthly_movements(landing: Path) -> list[dict[str, object]]:
    """The reference's monthly rows: month_start (ISO date) and the MRR totals (floats, 4 decimals)."""
    previous = Path.cwd()
    os.chdir(landing)
    try:
        with duckdb.connect() as con:
            cursor = con.execute(SCRIPT.read_text())
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
    finally:
        os.chdir(previous)
    return [
        {name: (value.isoformat() if name == "month_start" else float(value)) for name, value in zip(names, row, strict=True)}
        for row in rows
    ]


def main(argv: list[str]) -> int:
    landing, out = Path(argv[0]).resolve(), Path(argv[1])
    out.write_text(json.dumps(monthly_movements(landing), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
