{{ config(materialized='table') }}

{%- set configured = var('activity_window_days') -%}

{%- if configured is not none and configured | string | trim != '' %}

select
    cast({{ configured | int }} as integer) as activity_window_days,
    'configured' as window_source

{%- else %}

{#- The median of every gap > 0 between consecutive completed-order days of a customer, from how often each gap
    occurs (int_customer_purchase_gap_counts): a few hundred gap lengths instead of sorting every order of every
    customer again. -#}
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
    cast(coalesce(ceil(3 * median_gap_days), 90) as integer) as activity_window_days,
    case when median_gap_days is null then 'fallback' else 'derived' end as window_source
from median_gap

{%- endif %}
