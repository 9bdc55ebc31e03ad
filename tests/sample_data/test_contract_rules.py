"""Every generated row passes the contract's column rules, except the three documented malformed rows.

The rules are derived from pipeline.ingest.contract (types, nullability, allowed values, currencies,
non-negative amounts, date order, keys unique within a file), so this test follows the contract as it evolves.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.contract import ENTITIES, Entity

EXPECTED_BAD_ROWS = {"invoices": 3}


def _text_rows(out: Path, entity: Entity) -> str:
    """A relation over all files of the entity with every contract column as text plus the file name."""
    folder = out / entity.folder
    cols = ", ".join(f'CAST("{c.name}" AS VARCHAR) AS "{c.name}"' for c in entity.columns)
    if any(folder.glob("*.parquet")):
        return f"SELECT {cols}, filename FROM read_parquet('{folder}/*.parquet', filename = true)"
    return f"SELECT {cols}, filename FROM read_csv('{folder}/*.csv', all_varchar = true, filename = true)"


def _violations(entity: Entity) -> str:
    """SQL condition that is true when a row breaks any column rule of the contract."""
    rules = []
    for c in entity.columns:
        col = f'"{c.name}"'
        typed = f"try_cast({col} AS {c.sql_type})"
        rules.append(f"({col} IS NOT NULL AND {col} <> '' AND {typed} IS NULL)")
        if not c.nullable:
            rules.append(f"({col} IS NULL OR {col} = '')")
        if c.allowed:
            rules.append(f"lower({col}) NOT IN {tuple(c.allowed)!r}")
        if c.is_currency:
            rules.append(f"{col} NOT IN ('USD', 'EUR', 'GBP')")
        if c.non_negative:
            rules.append(f"{typed} < 0")
    if entity.date_order:
        start, end = entity.date_order
        rules.append(f'try_cast("{end}" AS DATE) <= try_cast("{start}" AS DATE)')
    return " OR ".join(rules)


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.folder)
def test_rows_follow_the_contract_rules(landing, entity):
    out, _ = landing
    if not any((out / entity.folder).iterdir()):
        pytest.skip(f"no {entity.folder} files in the small sample")
    bad = duckdb.sql(
        f"SELECT count(*) FROM ({_text_rows(out, entity)}) WHERE {_violations(entity)}"
    ).fetchall()[0][0]
    assert bad == EXPECTED_BAD_ROWS.get(entity.folder, 0)


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.folder)
def test_keys_are_unique_within_each_file(landing, entity):
    out, _ = landing
    if not any((out / entity.folder).iterdir()):
        pytest.skip(f"no {entity.folder} files in the small sample")
    key = ", ".join(f'"{k}"' for k in entity.key)
    duplicates = duckdb.sql(
        f"SELECT filename, {key} FROM ({_text_rows(out, entity)}) GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    assert duplicates == []
