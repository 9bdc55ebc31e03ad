"""The benchmark sizes of issue 7 (customers), plus XS for the smoke test (hidden from --help)."""

from __future__ import annotations

SIZES = {"XS": 500, "S": 10_000, "M": 100_000, "L": 1_000_000}
# Issue 7 sizes L as 15-20M invoice lines and 10M orders: the generator's dense profile gives about 16 lines
# and 10 orders per customer (the standard one about 6 and 4), at every size, XS included.
DENSITY = "dense"
PUBLIC = ("S", "M", "L")


def parse_sizes(text: str) -> list[str]:
    """`S,M` -> ["S", "M"]; unknown names raise ValueError with the valid ones."""
    names = [part.strip().upper() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in SIZES]
    if unknown or not names:
        raise ValueError(f"unknown size(s) {', '.join(unknown) or text!r}: choose from {', '.join(PUBLIC)}")
    return names
