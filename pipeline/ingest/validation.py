"""Builds the SQL that types a staged file and gives each bad row one reason.

The staged files are a table of VARCHAR columns (whatever the files held, as text) plus `_file` (the path
relative to the landing folder) and `_row` (1-based row number in that file). The query built here returns the
contract columns typed, plus `_file`, `_row`, `_reason`, `_column` and `_raw_value`:
NULL for a good row, otherwise the first rule it breaks, in the order of REASONS. Pure string building, so
it is unit-tested without a database.
"""

from __future__ import annotations

from functools import cache

import pycountry

from pipeline.ingest.contract import Column, Entity

# Every reason a row can be quarantined for, in the order they are checked.
REASONS = (
    "missing_key",
    "missing_value",
    "unparseable_date",
    "unparseable_timestamp",
    "unparseable_number",
    "number_out_of_range",
    "date_out_of_range",
    "unknown_status",
    "unknown_currency",
    "negative_amount",
    "period_end_not_after_period_start",
    "duplicate_key_in_file",
)
# Dates outside these bounds are typos (3024 for 2024, 0202 for 2020), never real billing history. Fixed bounds,
# not "after today": the same file must give the same result on every re-run.
PLAUSIBLE_DATES = ("1900-01-01", "2100-01-01")
# Reason for every row of a file that lacks a required column (the file is also marked rejected).
MISSING_COLUMN = "missing_column"


@cache
def currency_codes() -> tuple[str, ...]:
    """Active ISO 4217 codes, from pycountry so new codes arrive with a dependency update."""
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(source: str | None) -> str:
    """The trimmed raw text of a staged column, NULL when empty or absent from the file."""
    return "NULL::VARCHAR" if source is None else f"NULLIF(TRIM({quote_ident(source)}), '')"


def typed_expression(column: Column, text: str) -> str:
    """SQL turning the raw text into the contract type; NULL when it does not parse."""
    if column.sql_type == "TIMESTAMP":
        # TIMESTAMPTZ honours an explicit offset (+02:00, Z); naive values are read as UTC (session zone).
        return f"(TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
    if column.allowed:
        return f"LOWER({text})"
    if column.is_currency:
        return f"UPPER({text})"
    if column.sql_type == "VARCHAR":
        return text
    return f"TRY_CAST({text} AS {column.sql_type})"


def _parse_reason(column: Column) -> str | None:
    if column.sql_type == "DATE":
        return "unparseable_date"
    if column.sql_type == "TIMESTAMP":
        return "unparseable_timestamp"
    if column.sql_type.startswith("DECIMAL") or column.sql_type == "DOUBLE":
        return "unparseable_number"
    return None


def _rules(entity: Entity, column: Column, text: str, typed: str) -> list[tuple[str, str]]:
    """(reason, condition) pairs for one column, each condition true when the row breaks the rule."""
    rules: list[tuple[str, str]] = []
    if column.name in entity.key:
        rules.append(("missing_key", f"{text} IS NULL"))
    elif not column.nullable:
        rules.append(("missing_value", f"{text} IS NULL"))
    parse_reason = _parse_reason(column)
    if parse_reason == "unparseable_number":
        as_double = f"TRY_CAST({text} AS DOUBLE)"  # 'nan' parses as a DOUBLE but is not a number
        rules.append(("unparseable_number", f"{text} IS NOT NULL AND ({as_double} IS NULL OR isnan({as_double}))"))
        rules.append(("number_out_of_range", f"{text} IS NOT NULL AND {typed} IS NULL"))
    elif parse_reason:
        rules.append((parse_reason, f"{text} IS NOT NULL AND {typed} IS NULL"))
        low, high = (f"CAST('{d}' AS {column.sql_type})" for d in PLAUSIBLE_DATES)
        rules.append(("date_out_of_range", f"({typed} < {low} OR {typed} >= {high})"))
    if column.allowed:
        values = ", ".join(quote_literal(v) for v in column.allowed)
        rules.append(("unknown_status", f"{typed} NOT IN ({values})"))
    if column.is_currency:
        codes = ", ".join(quote_literal(c) for c in currency_codes())
        rules.append(("unknown_currency", f"{typed} NOT IN ({codes})"))
    if column.non_negative:
        rules.append(("negative_amount", f"{typed} < 0"))
    return rules


def checked_rows_sql(entity: Entity, source_columns: dict[str, str | None], staged: str) -> str:
    """SELECT over the staged table: typed contract columns, `_file`, `_row`, `_reason`, `_column`, `_raw_value`.

    `source_columns` maps each contract column to the staged column holding it (None when the file does not
    have that optional column).
    """
    texts = {c.name: _text(source_columns.get(c.name)) for c in entity.columns}
    typed = {c.name: typed_expression(c, texts[c.name]) for c in entity.columns}
    rules: list[tuple[str, str, str]] = []  # reason, condition, column
    for column in entity.columns:
        for reason, condition in _rules(entity, column, texts[column.name], typed[column.name]):
            rules.append((reason, condition, column.name))
    if entity.date_order:
        start, end = entity.date_order
        rules.append(("period_end_not_after_period_start", f"{typed[end]} <= {typed[start]}", end))
    key = ", ".join(texts[k] for k in entity.key)
    duplicate = f"ROW_NUMBER() OVER (PARTITION BY _file, {key} ORDER BY _row) > 1"
    rules.append(("duplicate_key_in_file", duplicate, entity.key[-1]))
    rules.sort(key=lambda r: REASONS.index(r[0]))

    def case(pick: str) -> str:
        whens = " ".join(f"WHEN {cond} THEN {pick(reason, col)}" for reason, cond, col in rules)
        return f"CASE {whens} END"

    select = [f"{typed[c.name]} AS {quote_ident(c.name)}" for c in entity.columns]
    select += [
        "_file",
        "_row",
        case(lambda reason, col: quote_literal(reason)) + " AS _reason",
        case(lambda reason, col: quote_literal(col)) + " AS _column",
        case(lambda reason, col: texts[col]) + " AS _raw_value",
    ]
    return "SELECT " + ",\n       ".join(select) + f"\nFROM {staged}"
