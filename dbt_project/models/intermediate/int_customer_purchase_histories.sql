{#-
    BG/NBD inputs per order customer as of the as-of day (several completed orders on one day count as one):
    repeat_order_days = x, recency_days = t_x, age_days = T (Fader, Hardie and Lee 2005), in days.
-#}
with as_of as (
    select as_of_day from {{ ref('int_as_of_day') }}
),

order_days as (
    select distinct orders.customer_id, orders.ordered_on
    from {{ ref('int_orders_converted') }} as orders
    cross join as_of
    where orders.is_completed
        and orders.ordered_on <= as_of.as_of_day
),

histories as (
    select
        customer_id,
        min(ordered_on) as first_order_day,
        max(ordered_on) as last_order_day,
        count(*) as order_days
    from order_days
    group by customer_id
)

select
    cast(histories.customer_id as {{ dbt.type_string() }}) as customer_id,
    histories.first_order_day,
    histories.last_order_day,
    cast(histories.order_days as bigint) as order_days,
    cast(histories.order_days - 1 as bigint) as repeat_order_days,
    cast({{ dbt.datediff('histories.first_order_day', 'histories.last_order_day', 'day') }} as bigint)
        as recency_days,
    cast({{ dbt.datediff('histories.first_order_day', 'as_of.as_of_day', 'day') }} as bigint) as age_days,
    as_of.as_of_day as as_of
from histories
cross join as_of
