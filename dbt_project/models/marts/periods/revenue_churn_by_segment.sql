{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}

with periods as (
    select grain, period_start, period_end, is_complete
    from {{ ref('int_periods') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
),

customers as (
    select customer_id, segment from {{ ref('int_customers_first_active') }}
),

segments as (
    select distinct segment from customers
),

sums as (
    select
        customer_periods.grain,
        customer_periods.period_start,
        customers.segment,
        {{ revenue_churn_sum_columns() }}
    from {{ ref('customer_periods') }} as customer_periods
    inner join customers on customers.customer_id = customer_periods.customer_id
    where {{ in_rebuilt_window(built_with, 'customer_periods.grain', 'customer_periods.period_start') }}
        {#- rows without MRR on either day add 0 to every sum: they need no segment #}
        and (customer_periods.mrr_start <> 0 or customer_periods.mrr_end <> 0)
    group by customer_periods.grain, customer_periods.period_start, customers.segment
)

select
    cast(periods.grain as {{ dbt.type_string() }}) as grain,
    periods.period_start,
    periods.period_end,
    periods.is_complete,
    cast(segments.segment as {{ dbt.type_string() }}) as segment,
    {{ revenue_churn_metric_columns('sums') }},
    {{ built_with_columns(built_with) }}
from periods
cross join segments
left join sums
    on sums.grain = periods.grain
    and sums.period_start = periods.period_start
    and sums.segment = segments.segment
