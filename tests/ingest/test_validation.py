"""The cheaper forms of the check's expressions give exactly what the plain forms give."""

from __future__ import annotations

from pipeline.ingest.contract import Column
from pipeline.ingest.validation import _not_one_of, _text, currency_codes, typed_expression

SPACES = [" ", "\u00a0", "\u2003", "\u3000", "\t", "\n", ""]
TEXTS = [f"{a}x{b}" for a in SPACES for b in SPACES] + ["", " ", "  ", "\u00a0", "ä", " ä ", "\u3000ä", "x y", "é\u00a0"]


def test_text_trims_like_trim(con):
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS v", [TEXTS])
    differ = con.execute(f"SELECT v FROM t WHERE {_text('v')} IS DISTINCT FROM NULLIF(TRIM(v), '')").fetchall()
    assert differ == []


TIMESTAMPS = ["2024-01-01 10:00:00", "2024-01-01T10:00:00", "2024-01-01 10:00:00.123456", "2024-02-30 10:00:00",
              "2024-01-01 24:00:00", "2024-01-01T12:00:00+02:00", "2024-01-01 12:00:00Z", "2024-01-01 12:00:00 EST",
              "2024-01-01 12:00:00 America/New_York", "2024-1-5 1:2:3", "2024-01-01", "0044-03-15 12:00:00 (BC)",
              "3024-01-01 10:00:00", "infinity", "yesterday", "2024-01-01 10:00:00.1234567"]


def test_naive_timestamps_take_the_plain_cast_for_the_same_value(con):
    """In a UTC session. The property test (random timestamps with and without offsets) checks the same at scale."""
    fast, full = (typed_expression(Column("t", "TIMESTAMP"), "v", utc) for utc in (True, False))
    assert "regexp_full_match" in fast and "regexp" not in full
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS v", [TIMESTAMPS])
    results = con.execute(f"SELECT v, {fast}, {full} FROM t").fetchall()
    assert [(v, a) for v, a, b in results if a != b and (a, b) != (None, None)] == []
    assert [v for v, a, _ in results if a is None] == ["2024-02-30 10:00:00", "0044-03-15 12:00:00 (BC)", "yesterday"]


def test_allowed_values_are_checked_like_not_in(con):
    values = ["USD", "usd", "XXX", "", "US", "USDX", None, "EUR|GBP", "E.R"]
    codes = currency_codes()
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS v", [values])
    listed = ", ".join(f"'{c}'" for c in codes)
    differ = con.execute(f"SELECT v FROM t WHERE ({_not_one_of(codes, 'v')}) IS DISTINCT FROM (v NOT IN ({listed}))").fetchall()
    assert differ == []
