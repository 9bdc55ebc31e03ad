{%- set built_with = ['reporting_currency', 'activity_window_days'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}
-- depends_on: {{ ref('int_activity_window') }}

with periods as (
    select grain, period_start
    from {{ ref('int_periods') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
),

cohorts as (
    select grain, cohort_period_start, cohort_size, cohort_revenue
    from {{ ref('int_cohort_baselines') }}
),

cohort_periods as (
    select
        cohorts.grain,
        cohorts.cohort_period_start,
        periods.period_start,
        {# parenthesised: dbt-spark's datediff is a sum of two CASE expressions #}
        cast(({{ dbt.datediff('cohorts.cohort_period_start', 'periods.period_start', 'month') }})
            / {{ months_per_grain('cohorts.grain') }} as bigint) as period_offset,
        cohorts.cohort_size,
        cohorts.cohort_revenue
    from cohorts
    inner join periods
        on periods.grain = cohorts.grain
        and periods.period_start >= cohorts.cohort_period_start
),

members as (
    select
        grain,
        cohort_period_start,
        period_start,
        sum(case when active_at_end then 1 else 0 end) as customers_active,
        sum(recognised_revenue) as revenue
    from {{ ref('customer_periods') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
    group by grain, cohort_period_start, period_start
)

select
    cast(cohort_periods.grain as {{ dbt.type_string() }}) as grain,
    cohort_periods.cohort_period_start,
    cohort_periods.period_offset,
    cohort_periods.period_start,
    cohort_periods.cohort_size,
    cast(coalesce(members.customers_active, 0) as bigint) as customers_active,
    {{ safe_percentage('coalesce(members.customers_active, 0)', 'cohort_periods.cohort_size') }}
        as customer_retention_rate,
    cast(coalesce(members.revenue, 0) as decimal(18, 4)) as revenue,
    {{ safe_percentage('coalesce(members.revenue, 0)', 'cohort_periods.cohort_revenue') }} as revenue_retention_rate,
    {{ built_with_columns(built_with) }}
from cohort_periods
left join members
    on members.grain = cohort_periods.grain
    and members.cohort_period_start = cohort_periods.cohort_period_start
    and members.period_start = cohort_periods.period_start
