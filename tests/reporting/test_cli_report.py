"""`retention report --out FILE` and the terminal summary."""

from __future__ import annotations

import re

import duckdb

from pipeline.cli import main
from pipeline.reporting.summary import summary_lines
from pipeline.reporting.tables import text_table


def test_report_command_writes_the_file(warehouse, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_SERVING_FILE", str(warehouse))
    out = tmp_path / "nested" / "r.html"
    assert main(["report", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"Report: {out}" in capsys.readouterr().out


def test_report_command_defaults_to_the_report_path_setting(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("RETENTION_SERVING_FILE", str(warehouse))
    monkeypatch.setenv("RETENTION_REPORT_PATH", str(tmp_path / "from_env.html"))
    assert main(["report"]) == 0
    assert (tmp_path / "from_env.html").stat().st_size > 10_000


def test_report_command_without_a_serving_file_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RETENTION_SERVING_FILE", str(tmp_path / "none.duckdb"))
    assert main(["report", "--out", str(tmp_path / "r.html")]) == 1
    assert "no serving file at" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_summary_is_an_aligned_table(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        lines = summary_lines(con)
    start = lines.index("Latest complete month 2024-03, change vs 2024-02:")
    table = lines[start + 1:start + 2 + 2 + 7]
    assert table[0].split() == ["metric", "value", "change"]
    retention = next(line for line in table if line.strip().startswith("Retention rate"))
    assert retention.split()[-4:] == ["91.2", "%", "-3.8", "pp"]
    # the rule under the header marks the columns; every value ends where its column ends (right-aligned)
    value_column = list(re.finditer(r"-+", table[1]))[1]
    for line in table[2:]:
        assert line[value_column.end() - 1] != " " and line[value_column.end():][:1] in ("", " "), line


def test_text_table_aligns_text_left_and_numbers_right():
    lines = text_table(("name", "n", "change"), [["a", "1", "+1.5 pp"], ["bbb", "1,000", ""]])
    assert lines == [
        "name      n   change",
        "----  -----  -------",
        "a         1  +1.5 pp",
        "bbb   1,000",
    ]
