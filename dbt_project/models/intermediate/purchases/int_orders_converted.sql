{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ rebuilt_customers(built_with) }}
),

rated as (
    select
        orders.*,
        case
            when orders.currency = '{{ var("reporting_currency") | upper }}' then cast(1 as decimal(18, 8))
            when fx.rate > 0 then fx.rate
        end as fx_rate
    from orders
    {{ join_fx_rate(ref('stg_finance__fx_rates'), 'orders.currency', 'orders.ordered_on') }}
)

select
    order_id,
    customer_id,
    ordered_at,
    ordered_on,
    status,
    status = 'completed' as is_completed,
    amount,
    currency,
    fx_rate,
    fx_rate is not null as has_fx_rate,
    cast(round(amount * fx_rate, 4) as decimal(18, 4)) as amount_reporting,
    {{ per_customer_columns(built_with) }}
from rated
