{#
    A customer's completed orders: the first and the last order day, how many order days, the median gap in days
    between consecutive ones, exactly as percentile_cont(0.5) (the mean of the two middle gaps when their number
    is even), the average order amount, and the average value of a repeat order day (the Gamma-Gamma spend
    model's m: the orders of the days after the first order day, summed per day, averaged over those days). The
    gaps come counted from int_customer_purchase_gap_counts, so the orders are sorted once per build for both this
    model and the activity window W, instead of a per-group percentile_cont over the raw gaps. All of these depend
    on the customer's own orders only (no order lies after the as-of day, the last loaded day), so an incremental
    build recomputes the changed customers alone. The BG/NBD inputs (int_customer_purchase_histories) and customer_value read these instead of
    counting the distinct order days and averaging the amounts of every order in every build.
#}
{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with completed as (
    select customer_id, ordered_on, amount_reporting
    from {{ ref('int_orders_converted') }}
    where is_completed and {{ rebuilt_customers(built_with) }}
),

order_days as (
    select
        customer_id,
        min(ordered_on) as first_order_day,
        max(ordered_on) as last_order_day,
        avg(amount_reporting) as avg_order_value,
        sum(amount_reporting) as total_value,
        count(*) - count(amount_reporting) as orders_without_rate
    from completed
    group by customer_id
),

{#- the value of the first order day, to take out of the total: what is left is the repeat order days' value -#}
first_days as (
    select
        completed.customer_id,
        sum(completed.amount_reporting) as first_day_value,
        count(*) - count(completed.amount_reporting) as orders_without_rate
    from completed
    inner join order_days
        on order_days.customer_id = completed.customer_id and order_days.first_order_day = completed.ordered_on
    group by completed.customer_id
),

gap_counts as (
    select customer_id, gap_days, gaps
    from {{ ref('int_customer_purchase_gap_counts') }}
    where {{ rebuilt_customers(built_with) }}
),

gap_totals as (
    select customer_id, sum(gaps) as gaps
    from gap_counts
    group by customer_id
),

median_gaps as (
    {{ median_from_counts('gap_counts', 'gap_days', 'gaps', 'customer_id') }}
)

select
    order_days.customer_id,
    order_days.first_order_day,
    order_days.last_order_day,
    cast(1 + coalesce(gap_totals.gaps, 0) as bigint) as order_days,
    cast(median_gaps.median_value as double) as median_purchase_gap_days,
    order_days.avg_order_value,
    {#- known only when every order of a repeat day has an fx rate: a missing amount would understate the day -#}
    case
        when gap_totals.gaps > 0 and order_days.orders_without_rate = first_days.orders_without_rate
            then cast(order_days.total_value - coalesce(first_days.first_day_value, 0) as double) / gap_totals.gaps
    end as avg_repeat_order_day_value,
    {{ per_customer_columns(built_with) }}
from order_days
inner join first_days on first_days.customer_id = order_days.customer_id
left join gap_totals on gap_totals.customer_id = order_days.customer_id
left join median_gaps on median_gaps.customer_id = order_days.customer_id
