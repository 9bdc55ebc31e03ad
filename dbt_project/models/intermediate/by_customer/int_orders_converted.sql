-- depends_on: {{ ref('int_customers_changed') }}
with orders as (
    select * from {{ ref('stg_shop__orders') }}
    where {{ rebuilt_customers() }}
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
    cast(round(amount * fx_rate, 4) as decimal(18, 4)) as amount_reporting
from rated
