"""End-to-end checks of customer_value, int_customer_purchase_histories, churn_reasons and unit_economics."""

from __future__ import annotations

from tests.dbt.conftest import scalar


def test_one_customer_value_row_per_ever_active_customer(con):
    expected = {
        row[0]
        for row in con.execute(
            """
            select customer_id from intermediate.int_customers_first_active
            where first_active_day <= (select as_of_day from intermediate.int_as_of_day)
            """
        ).fetchall()
    }
    rows = con.execute("select customer_id from marts.customer_value").fetchall()
    assert len(rows) == len(expected) > 30
    assert {row[0] for row in rows} == expected
    assert scalar(con, "select count(distinct as_of) from marts.customer_value") == 1
    assert scalar(
        con, "select count(*) from marts.customer_value where last_active_day > as_of or last_active_day < first_active_day"
    ) == 0


def test_current_mrr_is_the_mrr_end_of_the_month_in_progress(con):
    assert scalar(con, "select count(*) from marts.customer_value where current_mrr > 0") >= 2
    mismatches = scalar(
        con,
        """
        select count(*) from marts.customer_value v
        left join marts.customer_periods p
            on p.customer_id = v.customer_id and p.grain = 'month' and p.period_start = date_trunc('month', v.as_of)
        where v.current_mrr <> coalesce(p.mrr_end, 0)
           or v.is_active <> coalesce(p.active_at_end, false)
        """,
    )
    assert mismatches == 0


def test_lifetime_revenue_is_the_sum_of_recognised_revenue(con):
    mismatches = scalar(
        con,
        """
        select count(*) from marts.customer_value v
        left join (select customer_id, sum(recognised_revenue) as revenue
                   from marts.customer_periods where grain = 'year' group by all) p using (customer_id)
        where v.lifetime_revenue <> coalesce(p.revenue, 0)
        """,
    )
    assert mismatches == 0


def test_trailing_12m_revenue_matches_a_day_by_day_recount(con):
    """Independent recount: every recognised line exploded into days (fine on the small fixture)."""
    worst = scalar(
        con,
        """
        with as_of as (select as_of_day from intermediate.int_as_of_day),
        line_days as (
            select l.customer_id, cast(d as date) as day, l.amount_reporting / l.service_days as revenue
            from intermediate.int_invoice_lines_converted l,
                 unnest(generate_series(l.period_start, l.period_end - 1, interval 1 day)) as t(d)
            where l.is_recognised and l.has_fx_rate
        ),
        pieces as (
            select customer_id, day, revenue from line_days
            union all
            select customer_id, ordered_on, coalesce(amount_reporting, 0)
            from intermediate.int_orders_converted where is_completed
        ),
        expected as (
            select customer_id, sum(revenue) as revenue from pieces, as_of
            where day > as_of_day - 365 and day <= as_of_day group by all
        )
        select max(abs(v.trailing_12m_revenue - coalesce(e.revenue, 0)))
        from marts.customer_value v left join expected e using (customer_id)
        """,
    )
    assert worst < 0.001
    assert scalar(con, "select count(*) from marts.customer_value where trailing_12m_revenue < lifetime_revenue") > 0


def test_order_statistics_and_open_lines(con):
    rows = con.execute(
        """
        select customer_id, order_days, median_purchase_gap_days, avg_order_value, last_order_day
        from marts.customer_value
        """
    ).fetchall()
    for customer_id, order_days, median_gap, _avg_value, last_order_day in rows:
        assert (median_gap is None) == (order_days < 2), customer_id
        assert (last_order_day is None) == (order_days == 0), customer_id
    gap = con.execute(
        """
        with days as (
            select distinct customer_id, ordered_on from intermediate.int_orders_converted where is_completed
        ),
        gaps as (
            select customer_id, ordered_on - lag(ordered_on) over (partition by customer_id order by ordered_on) as g
            from days
        )
        select count(*) from (select customer_id, median(g) as m from gaps where g is not null group by all) e
        join marts.customer_value v using (customer_id)
        where v.median_purchase_gap_days <> e.m
        """
    ).fetchone()[0]
    assert gap == 0
    opened = con.execute(
        """
        select count(*), count(*) filter (where v.oldest_open_line_issued_on = e.oldest and v.open_amount = e.amount)
        from marts.customer_value v
        join (select customer_id, min(issued_on) as oldest, sum(amount_reporting) as amount
              from intermediate.int_invoice_lines_converted where status = 'open' group by all) e using (customer_id)
        """
    ).fetchone()
    assert opened[0] > 0 and opened[0] == opened[1]


def test_purchase_histories_count_order_days(con):
    mismatches = scalar(
        con,
        """
        select count(*) from intermediate.int_customer_purchase_histories h
        full join (
            select customer_id, count(distinct ordered_on) as order_days, min(ordered_on) as first_day,
                   max(ordered_on) as last_day
            from intermediate.int_orders_converted where is_completed group by all
        ) e using (customer_id)
        where h.order_days is distinct from e.order_days
           or h.repeat_order_days <> e.order_days - 1
           or h.recency_days <> e.last_day - e.first_day
           or h.age_days <> h.as_of - e.first_day
        """,
    )
    assert mismatches == 0
    assert scalar(con, "select count(*) from intermediate.int_customer_purchase_histories where repeat_order_days > 0") > 5


def test_churn_reasons_add_up_to_retention(con):
    assert scalar(con, "select sum(customers_churned) from marts.retention") > 0
    mismatches = scalar(
        con,
        """
        select count(*) from marts.retention r
        left join (select grain, period_start, sum(churned_customers) as churned, sum(share) as share
                   from marts.churn_reasons group by all) c using (grain, period_start)
        where r.customers_churned <> coalesce(c.churned, 0)
           or (r.customers_churned > 0 and abs(c.share - 100) > 1e-9)
        """,
    )
    assert mismatches == 0
    mrr_mismatches = scalar(
        con,
        """
        select count(*) from (select grain, period_start, sum(mrr_start) as mrr
                              from marts.customer_periods where is_churned group by all) p
        join (select grain, period_start, sum(churned_mrr) as mrr from marts.churn_reasons group by all) c
            using (grain, period_start)
        where p.mrr <> c.mrr
        """,
    )
    assert mrr_mismatches == 0
    assert scalar(con, "select count(*) from marts.churn_reasons where churned_customers <= 0") == 0


def test_churn_reasons_pick_the_nearest_normalised_answer(con):
    reasons = {
        (grain, day.isoformat(), reason)
        for grain, day, reason in con.execute(
            "select grain, period_start, reason from marts.churn_reasons where reason <> 'no_feedback'"
        ).fetchall()
    }
    # s-cancel churns on 2023-08-01: ' too EXPENSIVE ' (2 days after) beats 'Missing features' (7 days before).
    assert ("month", "2023-08-01", "too expensive") in reasons
    assert ("month", "2023-04-01", "switched to competitor") in reasons
    assert ("month", "2024-05-01", "too expensive") in reasons
    assert ("month", "2024-08-01", "budget") in reasons
    assert not {reason for _, _, reason in reasons} & {"missing features", "other", ""}


def test_unit_economics_has_one_row_per_retention_row(con):
    counts = con.execute(
        """
        select
            (select count(*) from marts.retention),
            (select count(*) from marts.unit_economics),
            (select count(*) from marts.retention r join marts.unit_economics u using (grain, period_start)
             where r.customers_new = u.new_customers and r.period_end = u.period_end
               and r.is_complete = u.is_complete)
        """
    ).fetchone()
    assert counts[0] > 0 and counts[0] == counts[1] == counts[2]


def test_ltv_is_null_exactly_without_churn(con):
    assert scalar(con, "select count(*) from marts.unit_economics where arpa is null") == 0
    broken = scalar(
        con,
        """
        select count(*) from marts.unit_economics
        where (ltv is null) <> (customer_churn_rate is null or customer_churn_rate = 0)
           or (ltv is not null and abs(ltv - arpa * 100 / customer_churn_rate) > 1e-6)
           or (below_3_to_1 is null) <> (ltv_to_cac is null)
        """,
    )
    assert broken == 0
    flags = {row[0] for row in con.execute("select distinct below_3_to_1 from marts.unit_economics").fetchall()}
    assert flags == {True, False, None}
    assert scalar(con, "select count(*) from marts.unit_economics where ltv is null") > 0


def test_churn_rate_averages_the_trailing_six_complete_months(con):
    mismatches = scalar(
        con,
        """
        with months as (select period_start, period_end, churn_rate from marts.retention
                        where grain = 'month' and is_complete),
        expected as (
            select u.grain, u.period_start, avg(m.churn_rate) as churn_rate
            from marts.unit_economics u join intermediate.int_periods p using (grain, period_start)
            join months m on m.period_end <= p.end_day + 1
                and m.period_start > (select max(period_start) from months m2 where m2.period_end <= p.end_day + 1)
                                     - interval 6 month
            group by all
        )
        select count(*) from marts.unit_economics u left join expected e using (grain, period_start)
        where u.customer_churn_rate is distinct from e.churn_rate
        """,
    )
    assert mismatches == 0


def test_acquisition_cost_sums_spend_in_the_period(con):
    mismatches = scalar(
        con,
        """
        select count(*) from marts.unit_economics u
        left join (select u2.grain, u2.period_start, sum(a.amount) as amount
                   from marts.unit_economics u2 join staging.stg_marketing__acquisition_costs a
                     on a.period_start >= u2.period_start and a.period_start < u2.period_end group by all) e
            using (grain, period_start)
        where u.acquisition_cost <> coalesce(e.amount, 0)
           or u.cac is distinct from u.acquisition_cost / nullif(u.new_customers, 0)
        """,
    )
    assert mismatches == 0
