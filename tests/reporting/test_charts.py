"""The chart functions return real PNG images, the same bytes for the same data, and a picture without data."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from pipeline.reporting import charts
from pipeline.reporting.data import read_report_data
from pipeline.reporting.kpis import complete_months

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHARTS = ["retention_trend", "mrr_movements", "cohort_heatmap", "top_at_risk", "survival_curves"]


@pytest.fixture
def inputs(con):
    data = read_report_data(con)
    months = complete_months(data.retention, data.revenue)
    return {
        "retention_trend": (charts.retention_trend, months),
        "mrr_movements": (charts.mrr_movements, months),
        "cohort_heatmap": (charts.cohort_heatmap, data.cohorts),
        "top_at_risk": (charts.top_at_risk, data.at_risk),
        "survival_curves": (charts.survival_curves, data.survival),
    }


@pytest.mark.parametrize("name", CHARTS)
def test_chart_is_a_valid_deterministic_png(inputs, name):
    function, frame = inputs[name]
    png = function(frame)
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size[0] == int(charts.WIDTH_IN * charts.DPI) and image.size[1] >= 250
    assert function(frame) == png  # same data, same bytes
    assert b"Matplotlib" not in png and b"Software" not in png  # no version or tool stamp


@pytest.mark.parametrize("name", CHARTS)
def test_different_data_gives_a_different_picture(inputs, name):
    function, frame = inputs[name]
    changed = frame.copy()
    column = {"retention_trend": "retention_rate", "mrr_movements": "churned_mrr",
              "cohort_heatmap": "customer_retention_rate", "top_at_risk": "value_at_risk",
              "survival_curves": "survival"}[name]
    changed[column] = changed[column].astype(float) * 0.5
    assert function(changed) != function(frame)


@pytest.mark.parametrize("name", CHARTS)
def test_no_data_still_draws_a_picture(inputs, name):
    function, frame = inputs[name]
    png = function(frame.head(0))
    Image.open(io.BytesIO(png)).verify()
    assert png != function(frame)


def test_mrr_chart_uses_only_complete_months(inputs):
    """The month in progress would show half a month of movements next to whole ones."""
    _, months = inputs["mrr_movements"]
    assert months["is_complete"].all() and len(months) == 3


def test_labels_are_plain_text_never_mathtext(inputs):
    """Ids and names from the data are drawn as written: `$\\undefinedcmd$` once failed the whole report."""
    _, frame = inputs["top_at_risk"]
    hostile = frame.copy()
    hostile["customer_id"] = ["$\\undefinedcmd$", "$x^2$", "a $ b $ c"][: len(hostile)] + list(hostile["customer_id"][3:])
    hostile["name"] = "$\\frac{1}{0}$"
    hostile["reasons"] = "$\\nope$"
    png = charts.top_at_risk(hostile)
    Image.open(io.BytesIO(png)).verify()
    assert png != charts.top_at_risk(frame)
