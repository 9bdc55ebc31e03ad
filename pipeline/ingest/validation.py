"""Builds the SQL that types a staged file and gives each bad row one reason.

The staged files are a table of VARCHAR columns (whatever the files held, as text) plus `_file` (the path
relative to the landing folder) and `_row` (1-based row number in that file). The query built here returns the
contract columns typed, plus `_file`, `_row`, `_reason`, `_column`, `_raw_value` and `_raw_record`:
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
# Prefix of the query's own columns; staging leaves out file columns that start with it.
INTERNAL = "_ingest_"
RULE = f"{INTERNAL}rule"


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


def checked_rows_sql(entity: Entity, source_columns: dict[str, str | None], staged: str, staged_columns: list[str]) -> str:
    """SELECT over the staged table: typed contract columns, `_file`, `_row`, `_reason`, `_column`, `_raw_value`
    and `_raw_record` (the staged row as JSON, for bad rows only).

    `source_columns` maps each contract column to the staged column holding it (None when the file does not
    have that optional column); `staged_columns` are the staged file columns, in order. The query is layered
    so every value is trimmed and cast once (DuckDB does not share repeated expressions): texts, then typed
    values, then one CASE giving the number of the first broken rule; reason, column, raw value and raw
    record are looked up from that number, which only the few bad rows have.
    """
    text_of = {c.name: quote_ident(f"{INTERNAL}t{i}") for i, c in enumerate(entity.columns)}
    typed_of = {c.name: quote_ident(f"{INTERNAL}v{i}") for i, c in enumerate(entity.columns)}
    rules: list[tuple[str, str, str]] = []  # reason, condition, column
    for column in entity.columns:
        for reason, condition in _rules(entity, column, text_of[column.name], typed_of[column.name]):
            rules.append((reason, condition, column.name))
    if entity.date_order:
        start, end = entity.date_order
        rules.append(("period_end_not_after_period_start", f"{typed_of[end]} <= {typed_of[start]}", end))
    # A later row of a key seen earlier in the same file. Keys are found in a narrow aggregate of the keys
    # that repeat, not in a window carrying every column; a row missing a key breaks an earlier rule.
    first_row = quote_ident(f"{INTERNAL}first_row")
    rules.append(("duplicate_key_in_file", f"_row > {first_row}", entity.key[-1]))
    rules.sort(key=lambda r: REASONS.index(r[0]))

    def by_rule(pick) -> str:
        return f"CASE {RULE} " + " ".join(f"WHEN {n} THEN {pick(rule)}" for n, rule in enumerate(rules, 1)) + " END"

    texts = ", ".join(f"{_text(source_columns.get(c.name))} AS {text_of[c.name]}" for c in entity.columns)
    typed = ", ".join(f"{typed_expression(c, text_of[c.name])} AS {typed_of[c.name]}" for c in entity.columns)
    first_broken = "CASE " + " ".join(f"WHEN {cond} THEN {n}" for n, (_, cond, _) in enumerate(rules, 1)) + " END"
    record = ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for c in ["_file", "_row", *staged_columns])
    select = [f"{typed_of[c.name]} AS {quote_ident(c.name)}" for c in entity.columns]
    select += [
        "_file",
        "_row",
        by_rule(lambda rule: quote_literal(rule[0])) + " AS _reason",
        by_rule(lambda rule: quote_literal(rule[2])) + " AS _column",
        by_rule(lambda rule: text_of[rule[2]]) + " AS _raw_value",
        f"CASE WHEN {RULE} IS NOT NULL THEN to_json(struct_pack({record}))::VARCHAR END AS _raw_record",
    ]
    keys = ", ".join(text_of[k] for k in entity.key)
    repeated = (f"SELECT _file, {keys}, min(_row) AS {first_row} FROM texts GROUP BY _file, {keys} "
                "HAVING count(*) > 1")
    return (
        f"WITH texts AS NOT MATERIALIZED (SELECT *, {texts} FROM {staged})\n"
        "SELECT " + ",\n       ".join(select) + f"\nFROM (SELECT *, {first_broken} AS {RULE}"
        f"\n      FROM (SELECT *, {typed} FROM texts) LEFT JOIN ({repeated}) USING (_file, {keys}))"
    )
