{%- set configured = var('activity_window_days', none) -%}

{%- if configured is not none and configured | string | trim != '' %}

select
    cast({{ configured | int }} as integer) as activity_window_days,
    'configured' as window_source

{%- else %}

{#- Gaps between consecutive completed orders of a customer: same-day orders give gaps of 0, so the gaps > 0 are
    exactly the gaps between consecutive distinct order days (no distinct over 10M orders first). -#}
with gaps as (
    select
        {{ dbt.datediff(
            'lag(ordered_on) over (partition by customer_id order by ordered_on)', 'ordered_on', 'day'
        ) }} as gap_days
    from {{ ref('int_orders_converted') }}
    where is_completed
),

median_gap as (
    select percentile_cont(0.5) within group (order by gap_days) as median_gap_days
    from gaps
    where gap_days > 0
)

select
    cast(coalesce(ceil(3 * median_gap_days), 90) as integer) as activity_window_days,
    case when median_gap_days is null then 'fallback' else 'derived' end as window_source
from median_gap

{%- endif %}
