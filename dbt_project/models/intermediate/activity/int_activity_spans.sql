{%- set built_with = ['reporting_currency', 'activity_window_days'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
-- depends_on: {{ ref('int_activity_window') }}
with activity_window as (
    select activity_window_days from {{ ref('int_activity_window') }}
),

order_days as (
    select distinct customer_id, ordered_on
    from {{ ref('int_orders_converted') }}
    where is_completed and {{ rebuilt_customers(built_with) }}
),

pieces as (
    select customer_id, valid_from as active_from, valid_to as active_to
    from {{ ref('int_customer_mrr_intervals') }}
    where {{ rebuilt_customers(built_with) }}
    union all
    select
        order_days.customer_id,
        order_days.ordered_on as active_from,
        cast({{ dbt.dateadd('day', 'activity_window.activity_window_days', 'order_days.ordered_on') }} as date)
            as active_to
    from order_days
    cross join activity_window
),

ordered as (
    select
        *,
        max(active_to) over (
            partition by customer_id order by active_from, active_to
            rows between unbounded preceding and 1 preceding
        ) as reached_before
    from pieces
),

islands as (
    select
        *,
        sum(case when reached_before >= active_from then 0 else 1 end) over (
            partition by customer_id order by active_from, active_to
            rows between unbounded preceding and current row
        ) as span_number
    from ordered
),

spans as (
    select
        customer_id,
        span_number,
        min(active_from) as active_from,
        max(active_to) as active_to
    from islands
    group by customer_id, span_number
)

select
    *,
    {{ per_customer_columns(built_with) }}
from spans
