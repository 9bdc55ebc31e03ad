{%- set configured = var('activity_window_days', none) -%}

{%- if configured is not none and configured | string | trim != '' %}

select
    cast({{ configured | int }} as integer) as activity_window_days,
    'configured' as window_source

{%- else %}

{#- The median of every gap > 0 between consecutive completed-order days of a customer, from how often each gap
    occurs (int_customer_purchase_gap_counts): the k-th smallest gap is the smallest with at least k gaps up to it,
    and the median is the mean of the floor((n + 1) / 2)-th and floor((n + 2) / 2)-th of n, as percentile_cont(0.5).
    That reads a few hundred gap lengths instead of sorting every order of every customer again. -#}
with gaps as (
    select gap_days, sum(gaps) as gaps
    from {{ ref('int_customer_purchase_gap_counts') }}
    group by gap_days
),

cumulative as (
    select
        gap_days,
        sum(gaps) over (order by gap_days rows between unbounded preceding and current row) as gaps_through,
        sum(gaps) over () as total_gaps
    from gaps
),

median_gap as (
    select
        (
            min(case when gaps_through >= floor((total_gaps + 1) / 2) then gap_days end)
            + min(case when gaps_through >= floor((total_gaps + 2) / 2) then gap_days end)
        ) / 2.0 as median_gap_days
    from cumulative
)

select
    cast(coalesce(ceil(3 * median_gap_days), 90) as integer) as activity_window_days,
    case when median_gap_days is null then 'fallback' else 'derived' end as window_source
from median_gap

{%- endif %}
