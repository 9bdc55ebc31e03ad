"""Builds the SQL that types staged files and gives each bad row one reason.

A staged source is a relation of VARCHAR columns (whatever the files held, as text) plus the position of
each row's file in its group (see staging.py). The query built here returns the contract columns typed, the
file position, and the number of the first rule the row breaks, in the order of REASONS (NULL for a good
row), with the raw value and raw record that only bad rows keep. Reasons and columns are looked up from that
number. Pure string building, so it is unit-tested without a database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
# A timestamp without offset or zone name, to the microsecond.
NAIVE_TIMESTAMP = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?"
# Reason for every row of a file that lacks a required column (the file is also marked rejected).
MISSING_COLUMN = "missing_column"
DUPLICATE = "duplicate_key_in_file"
# Prefix of the query's own columns; staging leaves out file columns that start with it.
INTERNAL = "_ingest_"
FILE_ORDER = f"{INTERNAL}file"  # 1-based position of the row's file in its group
RULE, RAW_VALUE, RAW = f"{INTERNAL}rule", f"{INTERNAL}raw_value", f"{INTERNAL}raw"


@cache
def currency_codes() -> tuple[str, ...]:
    """Active ISO 4217 codes, from pycountry so new codes arrive with a dependency update."""
    return tuple(sorted(c.alpha_3 for c in pycountry.currencies))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _not_one_of(values: tuple[str, ...], typed: str) -> str:
    """True when the value is not one of `values`, NULL for NULL, like `NOT IN`. DuckDB plans an IN list (and a
    list_contains of a constant list) as a join, which would lose the reading order; a regular expression of
    the alternatives is a plain expression, and faster."""
    return f"NOT regexp_full_match({typed}, {quote_literal('|'.join(re.escape(v) for v in values))})"


def _text(source: str | None) -> str:
    """The trimmed raw text of a staged column, NULL when empty or absent from the file.

    TRIM removes the space and the other Unicode space separators (U+00A0, U+2000..., U+3000), no other ASCII
    character. A value that starts and ends with an ASCII character other than the space is its own trim, so
    only values with a space at either end or any non-ASCII character are trimmed: a third of the cost, for
    the same result.
    """
    if source is None:
        return "NULL::VARCHAR"
    raw = quote_ident(source)
    needs_trim = f"{raw} LIKE ' %' OR {raw} LIKE '% ' OR strlen({raw}) <> length({raw})"
    return f"NULLIF(CASE WHEN {needs_trim} THEN TRIM({raw}) ELSE {raw} END, '')"


def typed_expression(column: Column, text: str, utc_session: bool = False) -> str:
    """SQL turning the raw text into the contract type; NULL when it does not parse.

    Timestamps: TIMESTAMPTZ honours an explicit offset (+02:00, Z); naive values are read in the session zone
    (UTC in the pipeline) and stored as UTC. That parse and conversion cost three times a plain TIMESTAMP
    cast, so in a UTC session a value of the plain naive form (digits only, no offset or zone) takes the
    plain cast, which gives it the same value.
    """
    if column.sql_type == "TIMESTAMP":
        with_zone = f"(TRY_CAST({text} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
        if not utc_session:
            return with_zone
        return (f"CASE WHEN regexp_full_match({text}, {quote_literal(NAIVE_TIMESTAMP)}) "
                f"THEN TRY_CAST({text} AS TIMESTAMP) ELSE {with_zone} END")
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
        rules.append(("unknown_status", _not_one_of(column.allowed, typed)))
    if column.is_currency:
        rules.append(("unknown_currency", _not_one_of(currency_codes(), typed)))
    if column.non_negative:
        rules.append(("negative_amount", f"{typed} < 0"))
    return rules


@dataclass(frozen=True)
class Rule:
    reason: str
    condition: str | None  # over the query's texts and typed values; None: decided after the read (duplicates)
    column: str


@cache
def rules_of(entity: Entity) -> tuple[Rule, ...]:
    """Every rule of the entity, numbered from 1 in the order of REASONS: a row gets the first it breaks."""
    rules: list[Rule] = []
    for column in entity.columns:
        for reason, condition in _rules(entity, column, text_of(entity, column.name), typed_of(entity, column.name)):
            rules.append(Rule(reason, condition, column.name))
    if entity.date_order:
        start, end = entity.date_order
        rules.append(Rule("period_end_not_after_period_start", f"{typed_of(entity, end)} <= {typed_of(entity, start)}", end))
    # A later row of a key seen earlier in the same file: it needs every row of the file, so it is found in
    # narrow queries after the read (see decisions.py). It comes last, so it never hides another reason.
    rules.append(Rule(DUPLICATE, None, entity.key[-1]))
    return tuple(sorted(rules, key=lambda r: REASONS.index(r.reason)))


def text_of(entity: Entity, column: str) -> str:
    return quote_ident(f"{INTERNAL}t{entity.column_names.index(column)}")


def typed_of(entity: Entity, column: str) -> str:
    return quote_ident(f"{INTERNAL}v{entity.column_names.index(column)}")


def key_texts(entity: Entity) -> dict[str, str]:
    """Per key column, the checked table's column with its text: the typed column itself where typing keeps
    the text (VARCHAR keys), otherwise a column of its own (the duplicate check compares texts)."""
    texts = {}
    for n, name in enumerate(entity.key):
        column = entity.columns[entity.column_names.index(name)]
        same = typed_expression(column, "x") == "x"
        texts[name] = quote_ident(name) if same else quote_ident(f"{INTERNAL}k{n}")
    return texts


def by_rule(entity: Entity, pick) -> str:
    """CASE over RULE: `pick(rule)` for the rule a row broke (NULL for a good row)."""
    cases = " ".join(f"WHEN {n} THEN {pick(rule)}" for n, rule in enumerate(rules_of(entity), 1))
    return f"CASE {RULE} {cases} END"


def rule_number(entity: Entity, reason: str) -> int:
    return next(n for n, rule in enumerate(rules_of(entity), 1) if rule.reason == reason)


def raw_record_sql(staged_columns: list[str]) -> str:
    """The staged row's raw text as a JSON object (without `_file` and `_row`, added in the quarantine)."""
    if not staged_columns:
        return "'{}'"
    return "to_json(struct_pack(" + ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for c in staged_columns) + "))::VARCHAR"


def checked_rows_sql(entity: Entity, source_columns: dict[str, str | None], source: str, staged_columns: list[str],
                     utc_session: bool = False) -> str:
    """SELECT over a staged source (FILE_ORDER and text columns): typed contract columns, FILE_ORDER, RULE (the
    number of the first rule broken, NULL for a good row), RAW_VALUE and RAW (the trimmed text of the rule's
    column and the raw record, for bad rows only), and the key texts the duplicate check needs.

    `source_columns` maps each contract column to the staged column holding it (None when the file does not
    have that optional column); `staged_columns` are the staged file columns, in order; `utc_session`: the
    session time zone is UTC (see `typed_expression`). The query is layered so every value is trimmed and
    cast once (DuckDB does not share repeated expressions): texts, then typed values, then one CASE giving
    the number of the first broken rule. It has no join (see `_not_one_of`), so its rows keep the reading
    order.
    """
    rules = [(n, rule) for n, rule in enumerate(rules_of(entity), 1) if rule.condition]
    texts = ", ".join(f"{_text(source_columns.get(c.name))} AS {text_of(entity, c.name)}" for c in entity.columns)
    typed = ", ".join(f"{typed_expression(c, text_of(entity, c.name), utc_session)} AS {typed_of(entity, c.name)}"
                      for c in entity.columns)
    first_broken = "CASE " + " ".join(f"WHEN {rule.condition} THEN {n}" for n, rule in rules) + " END"
    select = [f"{typed_of(entity, c.name)} AS {quote_ident(c.name)}" for c in entity.columns]
    select += [
        FILE_ORDER,
        RULE,
        by_rule(entity, lambda rule: text_of(entity, rule.column)) + f" AS {RAW_VALUE}",
        f"CASE WHEN {RULE} IS NOT NULL THEN {raw_record_sql(staged_columns)} END AS {RAW}",
    ]
    select += [f"{text_of(entity, k)} AS {column}" for k, column in key_texts(entity).items() if column != quote_ident(k)]
    return (
        "SELECT " + ",\n       ".join(select) + f"\nFROM (SELECT *, {first_broken} AS {RULE}"
        f"\n      FROM (SELECT *, {typed} FROM (SELECT *, {texts} FROM {source})))"
    )


def rejected_rows_sql(source: str, staged_columns: list[str]) -> str:
    """The checked table of a file that lacks a required column: every row bad (RULE 0), with its raw record."""
    return (f"SELECT {FILE_ORDER}, 0 AS {RULE}, NULL::VARCHAR AS {RAW_VALUE}, {raw_record_sql(staged_columns)} AS {RAW} "
            f"FROM {source}")
