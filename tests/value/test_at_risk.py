"""At-risk reasons and ranking on hand-made customers (as of 2025-06-30)."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from pipeline.definitions_builder import build_resources
from pipeline.lib.markdown import markdown_text
from pipeline.settings import load_settings
from pipeline.value.at_risk import Thresholds, at_risk, mask_email, mask_name, reason_flags, value_at_risk
from pipeline.value.at_risk_asset import shape

AS_OF = dt.date(2025, 6, 30)
DEFAULTS = build_resources(load_settings())["risk"].thresholds()  # the documented RETENTION_* defaults


def thresholds(**changes) -> Thresholds:
    return dataclasses.replace(DEFAULTS, **changes)
D = dt.date


def customer(customer_id, **signals):
    base = {
        "customer_id": customer_id,
        "as_of": AS_OF,
        "last_order_day": None,
        "order_days": 0,
        "median_purchase_gap_days": None,
        "current_mrr": 0.0,
        "mrr_one_month_ago": 0.0,
        "oldest_open_line_issued_on": None,
        "trailing_12m_revenue": 0.0,
        "p_alive": None,
        "clv": None,
        "value_at_stake": None,
    }
    return {**base, **signals}


def frame(*rows):
    return pd.DataFrame(list(rows))


def flags_of(row, t: Thresholds | None = None):
    flags = reason_flags(frame(row), t or DEFAULTS).iloc[0]
    return {name for name, on in flags.items() if on}


def test_overdue_purchase_uses_the_customers_own_gap():
    # gap 20 days: overdue after 1.5 x 20 = 30 days; last order 31 days before as-of
    assert flags_of(
        customer("a", last_order_day=D(2025, 5, 30), order_days=3, median_purchase_gap_days=20)
    ) == {"overdue_purchase"}
    # exactly 30 days is not more than 30
    assert (
        flags_of(customer("a", last_order_day=D(2025, 5, 31), order_days=3, median_purchase_gap_days=20))
        == set()
    )
    # two order days: a single gap is not a cycle
    assert flags_of(
        customer("a", last_order_day=D(2025, 1, 1), order_days=2, median_purchase_gap_days=20)
    ) == {"inactive"}


def test_inactive_after_ninety_days_without_an_order():
    assert flags_of(customer("b", last_order_day=D(2025, 4, 1), order_days=1)) == {"inactive"}  # 90 days
    assert flags_of(customer("b", last_order_day=D(2025, 4, 2), order_days=1)) == set()  # 89 days
    assert (
        flags_of(customer("b", current_mrr=50.0, mrr_one_month_ago=50.0)) == set()
    )  # never ordered: not "inactive"


def test_mrr_contraction_when_mrr_fell_over_the_last_month_by_more_than_the_threshold():
    assert flags_of(customer("c", current_mrr=80.0, mrr_one_month_ago=100.0)) == {"mrr_contraction"}
    assert flags_of(customer("c", current_mrr=0.0, mrr_one_month_ago=100.0)) == {"mrr_contraction"}
    assert flags_of(customer("c", current_mrr=120.0, mrr_one_month_ago=100.0)) == set()
    # a 2 % fall is currency noise under the default 5 % threshold, a signal under a 1 % threshold
    assert flags_of(customer("c", current_mrr=98.0, mrr_one_month_ago=100.0)) == set()
    assert flags_of(customer("c", current_mrr=98.0, mrr_one_month_ago=100.0), thresholds(mrr_contraction_min_pct=1)) == {"mrr_contraction"}


def test_payment_overdue_after_the_grace_period():
    assert flags_of(customer("d", oldest_open_line_issued_on=D(2025, 6, 15))) == {
        "payment_overdue"
    }  # 15 days
    assert flags_of(customer("d", oldest_open_line_issued_on=D(2025, 6, 16))) == set()  # 14 days


def test_low_p_alive_below_threshold_and_never_when_unknown():
    assert flags_of(customer("e", p_alive=0.49)) == {"low_p_alive"}
    assert flags_of(customer("e", p_alive=0.5)) == set()
    assert flags_of(customer("e", p_alive=0.2), thresholds(p_alive_threshold=0.1)) == set()


def test_value_at_risk_is_the_larger_of_trailing_revenue_and_annual_run_rate():
    values = value_at_risk(
        frame(
            customer("f", trailing_12m_revenue=500.0, current_mrr=100.0),
            customer("g", trailing_12m_revenue=1500.0, current_mrr=100.0),
        )
    )
    assert values.tolist() == [1200.0, 1500.0]


def test_ranking_by_expected_loss_then_value():
    rows = frame(
        # 1200 at stake, p_alive 0.9 -> 120 expected loss
        customer("safe_big", current_mrr=100.0, mrr_one_month_ago=150.0, p_alive=0.9),
        # 600 at stake, p_alive unknown -> 600
        customer("unknown", current_mrr=50.0, mrr_one_month_ago=60.0),
        # 1000 at stake, p_alive 0.3 -> 700 (reasons: low_p_alive, payment_overdue)
        customer(
            "likely_gone", trailing_12m_revenue=1000.0, p_alive=0.3, oldest_open_line_issued_on=D(2025, 5, 1)
        ),
        # 600 at stake, p_alive unknown -> 600: tie with "unknown" on score and value -> by id
        customer("another", current_mrr=50.0, mrr_one_month_ago=70.0),
        customer("fine", current_mrr=100.0, mrr_one_month_ago=100.0, p_alive=0.95),
    )
    ranked = at_risk(rows, DEFAULTS)
    assert ranked["customer_id"].tolist() == ["likely_gone", "another", "unknown", "safe_big"]
    assert ranked["priority_rank"].tolist() == [1, 2, 3, 4]
    assert ranked.loc[0, "reasons"] == ["payment_overdue", "low_p_alive"]
    assert ranked["priority_score"].round(6).tolist() == [700.0, 600.0, 600.0, 120.0]


def test_ranking_by_expected_lifetime_value_lost_where_a_model_knows_the_customer():
    """value_at_stake (customer_lifetime_value) ranks the customers a model covers; the others keep the trailing
    rule. A buyer with CLV 900 and p_alive 0.4 loses 900 x 0.6 = 540 in expectation; a subscriber with CLV 2,000
    and a 10 % chance of cancelling within the horizon 200, though their trailing value (12 x 300 = 3,600) is the
    largest; a customer no model knows keeps value at risk x 1 = 300."""
    rows = frame(
        customer("buyer", trailing_12m_revenue=400.0, p_alive=0.4, clv=900.0, value_at_stake=900.0 * 0.6),
        customer("subscriber", current_mrr=300.0, mrr_one_month_ago=400.0, clv=2000.0, value_at_stake=200.0),
        customer("unknown", current_mrr=25.0, mrr_one_month_ago=30.0),
        customer("fine", current_mrr=100.0, mrr_one_month_ago=100.0, clv=5000.0, value_at_stake=4000.0),
    )
    ranked = at_risk(rows, DEFAULTS)
    assert ranked["customer_id"].tolist() == ["buyer", "unknown", "subscriber"]  # "fine" has no reason
    assert ranked["priority_score"].round(6).tolist() == [540.0, 300.0, 200.0]
    assert ranked["value_at_stake"].tolist()[0] == 540.0 and pd.isna(ranked["value_at_stake"].tolist()[1])


def test_published_columns_and_next_order_date():
    ranked = at_risk(
        frame(customer("h", last_order_day=D(2025, 5, 1), order_days=4, median_purchase_gap_days=14.5)),
        DEFAULTS,
    )
    ranked["name"], ranked["email"], ranked["segment"] = "Ada", "ada@example.com", "smb"
    row = shape(ranked).iloc[0]
    assert row["days_since_last_activity"] == 60
    assert row["expected_next_order_date"] == D(2025, 5, 15)  # 14.5 rounds to 14 (half to even)
    assert list(shape(ranked).columns) == [
        "as_of",
        "customer_id",
        "name",
        "email",
        "segment",
        "reasons",
        "value_at_risk",
        "p_alive",
        "days_since_last_activity",
        "expected_next_order_date",
        "priority_rank",
        "clv",
        "value_at_stake",
    ]


@pytest.mark.parametrize(("name", "masked"), [("Ada Lovelace", "A** L*******"), ("", ""), (None, "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_email():
    assert mask_email("ada@example.com") == "a***@example.com"
    assert mask_email("not-an-email") == ""


def test_metadata_preview_masks_names():
    from pipeline.value.at_risk_asset import top_preview

    ranked = at_risk(frame(customer("k", current_mrr=10.0, mrr_one_month_ago=20.0)), DEFAULTS)
    ranked["name"], ranked["email"], ranked["segment"] = "Grace Hopper", "grace@example.com", "smb"
    preview = top_preview(shape(ranked))
    assert markdown_text("G**** H*****") in preview and "Grace" not in preview and "grace@" not in preview


def test_metadata_preview_shows_ids_and_segments_as_text():
    """A customer id or segment from a landing file cannot add a link, a table cell or a line to the UI's table."""
    from pipeline.value.at_risk_asset import top_preview

    ranked = at_risk(frame(customer("[click](http://evil.example)|x", current_mrr=10.0, mrr_one_month_ago=20.0)),
                     DEFAULTS)
    ranked["name"], ranked["email"], ranked["segment"] = None, None, "**vip**\n| injected | row |"
    preview = top_preview(shape(ranked))
    lines = preview.splitlines()
    cells = lines[0].count("|")  # the header's cell borders: no escaped bar in it
    assert len(lines) == 3 and all(line.count("|") - line.count("\\|") == cells for line in lines)
    assert "\\[click\\]\\(http\\:\\/\\/evil\\.example\\)\\|x" in lines[2]
    assert "\\*\\*vip\\*\\* \\| injected \\| row \\|" in lines[2]
