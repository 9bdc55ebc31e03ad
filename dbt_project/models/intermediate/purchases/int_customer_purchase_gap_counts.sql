{#-
    How often each gap (in days, > 0) between consecutive completed order days occurs, per customer. The activity
    window W comes from the median of every customer's gaps (int_activity_window), int_customer_purchase_gaps holds each
    customer's: both read these counts instead of sorting every order again. A customer's gaps depend on their own orders only, so an incremental build recomputes the
    changed customers alone.
-#}
{%- set built_with = [] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with order_day_gaps as (
    {#- several orders on one day give gaps of 0, so the gaps > 0 are exactly the gaps between consecutive order
        days, without a distinct over the orders first -#}
    select
        customer_id,
        {{ dbt.datediff('lag(ordered_on) over (partition by customer_id order by ordered_on)', 'ordered_on', 'day') }}
            as gap_days
    from {{ ref('int_orders_converted') }}
    where is_completed and {{ rebuilt_customers(built_with) }}
),

counted as (
    select
        customer_id,
        cast(gap_days as integer) as gap_days,
        cast(count(*) as bigint) as gaps
    from order_day_gaps
    where gap_days > 0
    group by customer_id, gap_days
)

select
    *,
    {{ per_customer_columns(built_with) }}
from counted
