{#-
    BG/NBD inputs per order customer as of the as-of day (several completed orders on one day count as one):
    repeat_order_days = x, recency_days = t_x, age_days = T (Fader, Hardie and Lee 2005), in days, and the
    Gamma-Gamma input avg_repeat_order_day_value = m (the same x order days' average value). The order days come
    per customer from int_customer_purchase_gaps; only T moves with the as-of day.
-#}
{{ config(materialized='table') }}

with as_of as (
    select as_of_day from {{ ref('int_as_of_day') }}
)

select
    cast(order_days.customer_id as {{ dbt.type_string() }}) as customer_id,
    order_days.first_order_day,
    order_days.last_order_day,
    cast(order_days.order_days as bigint) as order_days,
    cast(order_days.order_days - 1 as bigint) as repeat_order_days,
    cast({{ dbt.datediff('order_days.first_order_day', 'order_days.last_order_day', 'day') }} as bigint)
        as recency_days,
    cast({{ dbt.datediff('order_days.first_order_day', 'as_of.as_of_day', 'day') }} as bigint) as age_days,
    as_of.as_of_day as as_of,
    order_days.avg_repeat_order_day_value
from {{ ref('int_customer_purchase_gaps') }} as order_days
cross join as_of
