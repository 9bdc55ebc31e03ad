{#-
    Incremental over the partition window, like the period marts: a cohort's size and its revenue in its own
    period change only with rows of that period or with a first active day moving into or out of it, and either
    makes the build's window cover that period. So a build recomputes the cohorts whose period lies in its window
    (for the year grain, the years it overlaps) and keeps the others instead of joining every cohort to every
    revenue row again.
-#}
{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'cohort_period_start'),
    tags=['partitioned'],
) }}

with cohorts as (
    select customer_id, grain, cohort_period_start
    from {{ ref('int_customer_cohorts') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'cohort_period_start') }}
),

revenue as (
    select customer_id, grain, period_start, recognised_revenue
    from {{ ref('int_customer_revenue_recognised') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
)

select
    cohorts.grain,
    cohorts.cohort_period_start,
    cast(count(*) as bigint) as cohort_size,
    cast(coalesce(sum(revenue.recognised_revenue), 0) as decimal(18, 4)) as cohort_revenue,
    {{ built_with_columns(built_with) }}
from cohorts
left join revenue
    on revenue.customer_id = cohorts.customer_id
    and revenue.grain = cohorts.grain
    and revenue.period_start = cohorts.cohort_period_start
group by cohorts.grain, cohorts.cohort_period_start
