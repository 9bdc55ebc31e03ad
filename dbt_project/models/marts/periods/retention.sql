{{ config(pre_hook="{{ delete_partition_window('period_start') }}") }}

with periods as (
    select grain, period_start, period_end, is_complete
    from {{ ref('int_periods') }}
    where {{ in_partition_window('grain', 'period_start') }}
),

counts as (
    select
        grain,
        period_start,
        {{ retention_count_columns() }}
    from {{ ref('customer_periods') }}
    where {{ in_partition_window('grain', 'period_start') }}
    group by grain, period_start
)

select
    cast(periods.grain as {{ dbt.type_string() }}) as grain,
    periods.period_start,
    periods.period_end,
    periods.is_complete,
    {{ retention_metric_columns('counts') }}
from periods
left join counts
    on counts.grain = periods.grain
    and counts.period_start = periods.period_start
