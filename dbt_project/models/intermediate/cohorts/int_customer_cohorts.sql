{{ config(materialized='table') }}

with customers as (
    select first_active.customer_id, first_active.first_active_day
    from {{ ref('int_customers_first_active') }} as first_active
    cross join {{ ref('int_as_of_day') }} as as_of
    where first_active.first_active_day <= as_of.as_of_day
),

grains as (
    select 'month' as grain
    union all select 'quarter'
    union all select 'year'
)

select
    customers.customer_id,
    grains.grain,
    {{ period_containing('grains.grain', 'customers.first_active_day') }} as cohort_period_start
from customers
cross join grains
