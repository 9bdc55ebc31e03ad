{#- One row per customer active on some day up to the as-of day: value, tenure, purchase rhythm, at-risk inputs. -#}
{{ config(materialized='table') }}

with as_of as (
    select
        as_of_day,
        cast({{ dbt.dateadd('day', -364, 'as_of_day') }} as date) as trailing_from,
        cast({{ dbt.dateadd('day', 1, 'as_of_day') }} as date) as after_as_of,
        cast({{ dbt.dateadd('month', -1, 'as_of_day') }} as date) as month_ago
    from {{ ref('int_as_of_day') }}
),

customers as (
    select first_active.customer_id, first_active.first_active_day, first_active.segment
    from {{ ref('int_customers_first_active') }} as first_active
    cross join as_of
    where first_active.first_active_day <= as_of.as_of_day
),

activity as (
    select
        spans.customer_id,
        max(least(cast({{ dbt.dateadd('day', -1, 'spans.active_to') }} as date), as_of.as_of_day))
            as last_active_day,
        max(case when spans.active_to > as_of.as_of_day then 1 else 0 end) = 1 as is_active
    from {{ ref('int_activity_spans') }} as spans
    cross join as_of
    where spans.active_from <= as_of.as_of_day
    group by spans.customer_id
),

lifetime as (
    {#- the year rows of the spine cover every recognised day up to the as-of day (end day of the open year) -#}
    select customer_id, sum(recognised_revenue) as lifetime_revenue
    from {{ ref('int_customer_revenue_recognised') }}
    where grain = 'year'
    group by customer_id
),

recognised_lines as (
    select customer_id, period_start, period_end, service_days, amount_reporting
    from {{ ref('int_invoice_lines_converted') }}
    where is_recognised and has_fx_rate
),

completed_orders as (
    select orders.customer_id, orders.ordered_on, orders.amount_reporting
    from {{ ref('int_orders_converted') }} as orders
    cross join as_of
    where orders.is_completed and orders.ordered_on <= as_of.as_of_day
),

trailing_pieces as (
    select
        recognised_lines.customer_id,
        {{ recognised_line_revenue(
            'recognised_lines.amount_reporting',
            dbt.datediff(
                'greatest(recognised_lines.period_start, as_of.trailing_from)',
                'least(recognised_lines.period_end, as_of.after_as_of)',
                'day'
            ),
            'recognised_lines.service_days'
        ) }} as revenue
    from recognised_lines
    cross join as_of
    where recognised_lines.period_start < as_of.after_as_of
        and recognised_lines.period_end > as_of.trailing_from
    union all
    select completed_orders.customer_id, coalesce(completed_orders.amount_reporting, 0) as revenue
    from completed_orders
    cross join as_of
    where completed_orders.ordered_on >= as_of.trailing_from
),

trailing_year as (
    select customer_id, sum(revenue) as trailing_12m_revenue
    from trailing_pieces
    group by customer_id
),

mrr as (
    select
        intervals.customer_id,
        sum(case when intervals.valid_from <= as_of.as_of_day and intervals.valid_to > as_of.as_of_day
            then intervals.mrr else 0 end) as current_mrr,
        sum(case when intervals.valid_from <= as_of.month_ago and intervals.valid_to > as_of.month_ago
            then intervals.mrr else 0 end) as mrr_one_month_ago
    from {{ ref('int_customer_mrr_intervals') }} as intervals
    cross join as_of
    group by intervals.customer_id
),

open_lines as (
    select
        lines.customer_id,
        min(lines.issued_on) as oldest_open_line_issued_on,
        sum(lines.amount_reporting) as open_amount
    from {{ ref('int_invoice_lines_converted') }} as lines
    cross join as_of
    where lines.status = 'open' and lines.issued_on <= as_of.as_of_day
    group by lines.customer_id
)

select
    cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
    as_of.as_of_day as as_of,
    customers.first_active_day,
    activity.last_active_day,
    cast({{ dbt.datediff('customers.first_active_day', 'activity.last_active_day', 'day') }} + 1 as bigint)
        as tenure_days,
    cast(coalesce(lifetime.lifetime_revenue, 0) as decimal(18, 4)) as lifetime_revenue,
    cast(coalesce(trailing_year.trailing_12m_revenue, 0) as decimal(18, 4)) as trailing_12m_revenue,
    cast(coalesce(mrr.current_mrr, 0) as decimal(18, 4)) as current_mrr,
    cast(coalesce(purchase_gaps.order_days, 0) as bigint) as order_days,
    cast(purchase_gaps.median_purchase_gap_days as double) as median_purchase_gap_days,
    cast(round(purchase_gaps.avg_order_value, 4) as decimal(18, 4)) as avg_order_value,
    purchase_gaps.last_order_day,
    cast(coalesce(mrr.mrr_one_month_ago, 0) as decimal(18, 4)) as mrr_one_month_ago,
    open_lines.oldest_open_line_issued_on,
    cast(coalesce(open_lines.open_amount, 0) as decimal(18, 4)) as open_amount,
    coalesce(activity.is_active, false) as is_active,
    cast(customers.segment as {{ dbt.type_string() }}) as segment
from customers
cross join as_of
left join activity on activity.customer_id = customers.customer_id
left join lifetime on lifetime.customer_id = customers.customer_id
left join trailing_year on trailing_year.customer_id = customers.customer_id
left join mrr on mrr.customer_id = customers.customer_id
left join {{ ref('int_customer_purchase_gaps') }} as purchase_gaps
    on purchase_gaps.customer_id = customers.customer_id
left join open_lines on open_lines.customer_id = customers.customer_id
