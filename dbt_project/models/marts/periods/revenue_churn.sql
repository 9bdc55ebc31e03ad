{#- The segments of revenue_churn_by_segment added up: every customer has exactly one segment. -#}
{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}

with sums as (
    select
        grain,
        period_start,
        period_end,
        is_complete,
        {{ sum_of_columns(revenue_churn_sum_column_names()) }}
    from {{ ref('revenue_churn_by_segment') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
    group by grain, period_start, period_end, is_complete
)

select
    grain,
    period_start,
    period_end,
    is_complete,
    {{ revenue_churn_metric_columns('sums') }},
    {{ built_with_columns(built_with) }}
from sums
