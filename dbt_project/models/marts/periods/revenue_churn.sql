{{ config(pre_hook="{{ delete_partition_window('period_start') }}") }}

with periods as (
    select grain, period_start, period_end, is_complete
    from {{ ref('int_periods') }}
    where {{ in_partition_window('grain', 'period_start') }}
),

sums as (
    select
        grain,
        period_start,
        {{ revenue_churn_sum_columns() }}
    from {{ ref('customer_periods') }}
    where {{ in_partition_window('grain', 'period_start') }}
    group by grain, period_start
)

select
    cast(periods.grain as {{ dbt.type_string() }}) as grain,
    periods.period_start,
    periods.period_end,
    periods.is_complete,
    {{ revenue_churn_metric_columns('sums') }}
from periods
left join sums
    on sums.grain = periods.grain
    and sums.period_start = periods.period_start
