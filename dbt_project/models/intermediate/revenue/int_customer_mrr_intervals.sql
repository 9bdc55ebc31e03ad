{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with lines as (
    select customer_id, period_start, period_end, monthly_amount
    from {{ ref('int_invoice_lines_converted') }}
    where is_recognised and has_fx_rate and {{ rebuilt_customers(built_with) }}
),

changes as (
    select customer_id, period_start as change_day, monthly_amount as delta from lines
    union all
    select customer_id, period_end as change_day, -monthly_amount as delta from lines
),

daily_changes as (
    select customer_id, change_day, sum(delta) as delta
    from changes
    group by customer_id, change_day
),

running as (
    select
        customer_id,
        change_day as valid_from,
        lead(change_day) over (partition by customer_id order by change_day) as valid_to,
        sum(delta) over (partition by customer_id order by change_day rows between unbounded preceding and current row)
            as net_mrr
    from daily_changes
),

clamped as (
    select
        customer_id,
        valid_from,
        valid_to,
        cast(case when net_mrr > 0 then net_mrr else 0 end as decimal(18, 4)) as mrr
    from running
    where valid_to is not null
),

flagged as (
    select
        *,
        case
            when lag(mrr) over (partition by customer_id order by valid_from) = mrr then 0
            else 1
        end as starts_island
    from clamped
),

islands as (
    select
        *,
        sum(starts_island) over (partition by customer_id order by valid_from rows between unbounded preceding and current row)
            as island
    from flagged
),

merged as (
    select
        customer_id,
        min(valid_from) as valid_from,
        max(valid_to) as valid_to,
        mrr
    from islands
    where mrr > 0
    group by customer_id, island, mrr
)

select
    *,
    {{ per_customer_columns(built_with) }}
from merged
