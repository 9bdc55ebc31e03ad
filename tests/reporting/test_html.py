"""The HTML file is self-contained, masks names, and shows KPIs, charts, definitions and data quality."""

from __future__ import annotations

import base64
import datetime as dt
import re

import duckdb
import pytest

from pipeline.reporting.definitions import DEFINITIONS
from pipeline.reporting.html import render
from pipeline.reporting.report import build_report
from tests.reporting.conftest import PEOPLE, build_warehouse

FIXED = dt.datetime(2024, 4, 16, 6, 0)


@pytest.fixture(scope="module")
def html(warehouse) -> str:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return render(build_report(con, FIXED))


def test_nothing_is_loaded_from_outside_the_file(html):
    lowered = html.lower()
    for external in ("http://", "https://", "<script", "<link", "@import", "url(", "//fonts", "<iframe"):
        assert external not in lowered, external
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)


def test_every_chart_is_an_inlined_png(html):
    for chart in ("retention_trend", "mrr_movements", "cohort_heatmap", "top_at_risk", "subscription_survival"):
        match = re.search(rf'<figure id="{chart}"><img src="data:image/png;base64,([^"]+)"', html)
        assert match, chart
        assert base64.b64decode(match.group(1)).startswith(b"\x89PNG")


def test_names_and_emails_are_masked(html):
    for name, email in PEOPLE:
        assert name not in html and email not in html
        assert not [part for part in name.split() if part in html]
    assert "A** L*******" in html  # Ada Lovelace, the most value at risk


def test_top_at_risk_is_by_value(html):
    """The two customers with the least value (but the highest call priority) are not in the top ten."""
    assert "cus_000" in html and "cus_009" in html
    assert "cus_010" not in html and "cus_011" not in html
    assert "12 customers at risk" in html


def test_top_at_risk_shows_the_value_at_stake_last(html):
    """The value at stake is the last column; a customer no model knows shows n/a."""
    section = html[html.index("Top at-risk customers by value"):]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", section).group(1)
    assert re.findall(r">([^<]+)</th>", header)[-2:] == ["reasons", "value at stake"]
    first = re.search(r"<tbody><tr>(.*?)</tr>", section).group(1)
    assert first.startswith("<td class=num>12</td><td>cus_000</td>") and first.endswith("<td class=num>100.00</td>")
    second = section.split("</tr>")[2]
    assert "cus_001" in second and second.endswith("<td class=num>n/a</td>")


def test_kpis_with_change_against_the_previous_month(html):
    assert 'data-kpi="retention_rate"' in html and "91.2 %" in html
    assert "-3.8 pp vs Feb 2024" in html
    assert "March 2024" in html and "February 2024" in html


def test_definitions_in_plain_words(html):
    for term, _ in DEFINITIONS:
        assert f"<dt>{term}</dt>" in html.replace("&amp;", "&")


def test_data_quality_passed_uses_the_latest_result_per_suite(html):
    section = html[html.index('id="data-quality"'):]
    assert 'class="status passed">passed' in section
    assert "ExpectColumnValuesToBeInSet" not in section  # the older failure was fixed by the later run
    assert "<td>files rejected whole</td><td class=num>1</td>" in section
    assert "<td>rows quarantined</td><td class=num>3</td>" in section
    assert "<td>unparseable_number</td><td class=num>2</td>" in section


def test_data_quality_failed_suite_is_named(tmp_path):
    path = build_warehouse(tmp_path / "failing.duckdb", failing_suite=True)
    with duckdb.connect(str(path), read_only=True) as con:
        section = render(build_report(con, FIXED)).split('id="data-quality"')[1]
    assert 'class="status failed">failed' in section
    assert "1 of 2 suites failed" in section
    assert "ExpectColumnValuesToBeBetween(churn_rate)" in section


def test_an_empty_warehouse_still_gives_a_report(tmp_path):
    with duckdb.connect(str(tmp_path / "empty.duckdb")) as con:
        html = render(build_report(con, FIXED))
    assert "No complete month yet" in html
    missing = html.split("Not built yet: ")[1].split(".</p>")[0].split(", ")
    assert "marts.retention" in missing and len(missing) == len(set(missing))
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 5
    assert "marts.subscription_survival" in missing
