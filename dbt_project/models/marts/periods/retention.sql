{#- The segments of retention_by_segment added up: every customer has exactly one segment. -#}
{%- set built_with = ['reporting_currency', 'activity_window_days'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}
-- depends_on: {{ ref('int_activity_window') }}

with counts as (
    select
        grain,
        period_start,
        period_end,
        is_complete,
        {{ sum_of_columns(retention_count_column_names()) }}
    from {{ ref('retention_by_segment') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
    group by grain, period_start, period_end, is_complete
)

select
    grain,
    period_start,
    period_end,
    is_complete,
    {{ retention_metric_columns('counts') }},
    {{ built_with_columns(built_with) }}
from counts
