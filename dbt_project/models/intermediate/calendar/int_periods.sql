{{ config(materialized='table') }}

{#- From the first month with an active customer, but not before the quarter of var start (RETENTION_START). -#}
with bounds as (
    select
        greatest(
            cast({{ dbt.date_trunc('month', 'min(first_active.first_active_day)') }} as date),
            cast({{ dbt.date_trunc('quarter', "cast('" ~ var('start') ~ "' as date)") }} as date)
        ) as first_month,
        cast({{ dbt.date_trunc('month', 'as_of.as_of_day') }} as date) as last_month,
        as_of.as_of_day
    from {{ ref('int_customers_first_active') }} as first_active
    cross join {{ ref('int_as_of_day') }} as as_of
    where first_active.first_active_day <= as_of.as_of_day
    group by as_of.as_of_day
),

month_offsets as (
    select
        first_month,
        as_of_day,
        {{ integer_series(dbt.datediff('first_month', 'last_month', 'month')) }} as month_offset
    from bounds
),

months as (
    select
        cast({{ dbt.dateadd('month', 'month_offset', 'first_month') }} as date) as month_start,
        as_of_day
    from month_offsets
),

period_starts as (
    select distinct 'month' as grain, month_start as period_start, as_of_day from months
    union all
    select distinct 'quarter', cast({{ dbt.date_trunc('quarter', 'month_start') }} as date), as_of_day from months
    union all
    select distinct 'year', cast({{ dbt.date_trunc('year', 'month_start') }} as date), as_of_day from months
),

bounded as (
    select
        grain,
        period_start,
        cast({{ dbt.dateadd('month', months_per_grain('grain'), 'period_start') }} as date) as period_end,
        as_of_day
    from period_starts
),

days as (
    select
        grain,
        period_start,
        period_end,
        cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) as start_day,
        cast({{ dbt.dateadd('day', -1, 'period_end') }} as date) as last_day,
        as_of_day
    from bounded
)

select
    grain,
    period_start,
    period_end,
    start_day,
    case when last_day <= as_of_day then last_day else as_of_day end as end_day,
    last_day <= as_of_day as is_complete,
    as_of_day
from days
