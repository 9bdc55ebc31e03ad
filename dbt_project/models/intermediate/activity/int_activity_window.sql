{{ config(materialized='table') }}

{#- W: the configured var activity_window_days when set, else three median purchase gaps (90 without any gap).
    The median is computed either way, so the model's dependencies do not change with the var. It comes from how
    often each gap > 0 between consecutive completed-order days occurs (int_customer_purchase_gap_counts): a few
    hundred gap lengths instead of sorting every order of every customer again. -#}
{%- set configured = var('activity_window_days') -%}
{%- set configured = none if configured is none or configured | string | trim == '' else configured | int %}

with gaps as (
    select gap_days, sum(gaps) as gaps
    from {{ ref('int_customer_purchase_gap_counts') }}
    group by gap_days
),

median_gap as (
    select median_value as median_gap_days
    from ({{ median_from_counts('gaps', 'gap_days', 'gaps') }}) as medians
)

select
{%- if configured is not none %}
    cast({{ configured }} as integer) as activity_window_days,
    'configured' as window_source
{%- else %}
    cast(coalesce(ceil(3 * median_gap_days), 90) as integer) as activity_window_days,
    case when median_gap_days is null then 'fallback' else 'derived' end as window_source
{%- endif %}
from median_gap
