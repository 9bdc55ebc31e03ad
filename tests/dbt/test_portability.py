"""The dbt models stay portable: no DuckDB-only SQL outside a `duckdb__` macro (docs/scaling.md).

Engine-specific SQL lives in dispatched macros (`duckdb__x` beside `spark__x` / `default__x`); models call the
macros or dbt's cross-database ones (dbt.dateadd, dbt.datediff, dbt.date_trunc, dbt.type_string).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"

# Replaced in the models by issue 9 (Spark): varchar casts (Spark needs VARCHAR(n); dbt.type_string() instead),
# a double-quoted identifier (a string literal on Spark; adapter.quote() instead) and the month spine's
# unnest(generate_series(...)) (now duckdb__integer_series beside spark__integer_series).
REPLACED = {
    "varchar": r"\bvarchar\b",
    "double-quoted identifier": r'"[A-Za-z_][A-Za-z0-9_]*"',
    "generate_series": r"\bgenerate_series\s*\(",
    "unnest": r"\bunnest\s*\(",
}
# DuckDB-only constructs the models never used; listed so they stay out. ASOF joins are DuckDB's and live in
# duckdb__join_fx_rate only.
DUCKDB_ONLY = {
    ":: cast": r"::",
    "asof join": r"\basof\b",
    "date_diff/date_sub with a unit first": r"\bdate_(diff|sub)\s*\(\s*'",
    "epoch": r"\bepoch(_ms|_us|_ns)?\s*\(",
    "strftime": r"\bstrftime\s*\(",
    "list_ functions": r"\blist_[a-z_]+\s*\(",
    "qualify": r"\bqualify\b",
}
PATTERNS = {**REPLACED, **DUCKDB_ONLY}

MACRO_BLOCK = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(.*?{%-?\s*endmacro\s*-?%}", re.S)


def _sql(text: str) -> str:
    """The text without Jinja comments and with Jinja expressions blanked (their quoted names are Jinja)."""
    text = re.sub(r"{#.*?#}", "", text, flags=re.S)
    return re.sub(r"{{.*?}}", lambda m: re.sub(r'"', "'", m.group(0)), text, flags=re.S)


def _offences(text: str) -> list[str]:
    return [name for name, pattern in PATTERNS.items() if re.search(pattern, text, re.I)]


MODELS = sorted((PROJECT / "models").rglob("*.sql"))
MACROS = sorted((PROJECT / "macros").rglob("*.sql"))


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_model_has_no_duckdb_only_sql(path: Path):
    assert _offences(_sql(path.read_text())) == [], f"{path.name}: use a dbt.* or a dispatched macro"


@pytest.mark.parametrize("path", MACROS, ids=lambda p: p.name)
def test_duckdb_only_sql_only_in_duckdb_macros(path: Path):
    for match in MACRO_BLOCK.finditer(_sql(path.read_text())):
        if not match.group(1).startswith("duckdb__"):
            assert _offences(match.group(0)) == [], f"{path.name}: {match.group(1)} is not a duckdb__ macro"


def test_the_check_sees_what_it_forbids():
    assert _offences(_sql("select x::date, cast(y as varchar) from t qualify 1")) == [
        "varchar",
        ":: cast",
        "qualify",
    ]
    assert _offences(_sql('select "date" from t')) == ["double-quoted identifier"]
    assert _offences(_sql('select {{ adapter.quote("date") }} from t')) == []
    assert len(MODELS) > 20 and len(MACROS) > 5
