"""The report in a real browser: headless Debian Chromium opens the file offline and shows every part.

Every request the page makes is routed through the test: only the file itself and data: URIs are allowed, any
other request is aborted and fails the test, so a report that reached for a CDN or a web font could not pass.
The full-page screenshot is kept under test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.reporting.report import write_report

CHROMIUM = Path("/usr/bin/chromium")
CHARTS = ("retention_trend", "mrr_movements", "cohort_heatmap", "top_at_risk", "subscription_survival")
KPIS = ("retention_rate", "churn_rate", "gross_mrr_churn_rate", "net_revenue_retention", "mrr_end",
        "customers_end", "at_risk_customers")


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium); .ci/run does this",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def report_file(warehouse, tmp_path) -> Path:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return write_report(con, tmp_path / "retention_report.html").path


def test_report_opens_offline_with_kpis_and_charts_visible(browser, report_file, tmp_path, request):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requested: list[str] = []

    def route(request_route, request):
        requested.append(request.url)
        if request.url.startswith(("file://", "data:")):
            request_route.continue_()
        else:
            request_route.abort()

    page.route("**/*", route)
    page.goto(report_file.resolve().as_uri(), wait_until="load")

    outside = [url for url in requested if not url.startswith(("file://", "data:"))]
    assert not outside, f"the report requested {outside}"
    assert requested[0] == report_file.resolve().as_uri()

    for kpi in KPIS:
        card = page.locator(f'[data-kpi="{kpi}"]')
        assert card.is_visible(), kpi
        assert card.locator(".value").inner_text().strip() not in ("", "n/a"), kpi
    assert page.locator('[data-kpi="retention_rate"] .value').inner_text() == "91.2 %"
    assert "-3.8 pp" in page.locator('[data-kpi="retention_rate"] .change').inner_text()

    for chart in CHARTS:
        image = page.locator(f"#{chart} img")
        image.scroll_into_view_if_needed()
        assert image.is_visible(), chart
        natural = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert natural[0] and natural[1] > 0 and natural[2] > 0, (chart, natural)
        box = image.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 150, (chart, box)

    for section in ("#definitions", "#data-quality"):
        assert page.locator(section).is_visible(), section
    assert "passed" in page.locator("#data-quality .status").inner_text()

    screenshot = tmp_path / "retention_report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    assert screenshot.stat().st_size > 50_000  # a page with five charts, not a blank one
    artifacts = request.config.rootpath / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(screenshot, artifacts / "retention_report.png")
