{%- set built_with = ['reporting_currency', 'activity_window_days'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_window_hook(built_with, 'period_start'),
    tags=['partitioned'],
) }}
-- depends_on: {{ ref('int_activity_window') }}

with periods as (
    select grain, period_start, period_end, start_day, end_day
    from {{ ref('int_periods') }}
    where {{ in_rebuilt_window(built_with, 'grain', 'period_start') }}
),

{#-
    The facts of a customer in a period, grouped below. Each carries its period's end and end day, so the groups
    join first_active on the customer alone: with the end-day condition on int_periods, the planner paired every
    customer with every period first. The start and end flags are
    summed as one number: a customer's spans are disjoint, so at most one holds the start day (1) and one the end
    day (2). An MRR interval holding both the start and the end day is one row, not two.
-#}
facts as (
    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.end_day,
        spans.customer_id,
        case when spans.active_from <= periods.start_day then 1 else 0 end
            + case when spans.active_to > periods.end_day then 2 else 0 end as active_flags,
        cast(0 as decimal(18, 4)) as mrr_start,
        cast(0 as decimal(18, 4)) as mrr_end,
        cast(0 as decimal(18, 4)) as recognised_revenue,
        0 as order_count
    from periods
    inner join {{ ref('int_activity_spans') }} as spans
        on spans.active_from <= periods.end_day
        and spans.active_to > periods.start_day
    union all
    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.end_day,
        intervals.customer_id,
        0 as active_flags,
        case when intervals.valid_from <= periods.start_day then intervals.mrr else cast(0 as decimal(18, 4)) end as mrr_start,
        case when intervals.valid_to > periods.end_day then intervals.mrr else cast(0 as decimal(18, 4)) end as mrr_end,
        cast(0 as decimal(18, 4)) as recognised_revenue,
        0 as order_count
    from periods
    inner join {{ ref('int_customer_mrr_intervals') }} as intervals
        on intervals.valid_from <= periods.end_day
        and intervals.valid_to > periods.start_day
    where intervals.valid_from <= periods.start_day or intervals.valid_to > periods.end_day
    union all
    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.end_day,
        revenue.customer_id,
        0 as active_flags,
        cast(0 as decimal(18, 4)) as mrr_start,
        cast(0 as decimal(18, 4)) as mrr_end,
        revenue.recognised_revenue,
        revenue.order_count
    from {{ ref('int_customer_revenue_recognised') }} as revenue
    inner join periods
        on periods.grain = revenue.grain
        and periods.period_start = revenue.period_start
    where {{ in_rebuilt_window(built_with, 'revenue.grain', 'revenue.period_start') }}
),

customer_facts as (
    select
        grain,
        period_start,
        period_end,
        end_day,
        customer_id,
        sum(active_flags) as active_flags,
        sum(mrr_start) as mrr_start,
        sum(mrr_end) as mrr_end,
        sum(recognised_revenue) as recognised_revenue,
        sum(order_count) as order_count
    from facts
    group by grain, period_start, period_end, end_day, customer_id
),

joined as (
    select
        customer_facts.grain,
        customer_facts.period_start,
        customer_facts.period_end,
        customer_facts.customer_id,
        {{ period_containing('customer_facts.grain', 'first_active.first_active_day') }} as cohort_period_start,
        customer_facts.active_flags in (1, 3) as active_at_start,
        customer_facts.active_flags >= 2 as active_at_end,
        first_active.first_active_day >= customer_facts.period_start as first_active_in_period,
        coalesce(first_active.first_mrr_day >= customer_facts.period_start, false) as first_mrr_in_period,
        cast(customer_facts.mrr_start as decimal(18, 4)) as mrr_start,
        cast(customer_facts.mrr_end as decimal(18, 4)) as mrr_end,
        cast(customer_facts.recognised_revenue as decimal(18, 4)) as recognised_revenue,
        cast(customer_facts.order_count as bigint) as order_count
    from customer_facts
    inner join {{ ref('int_customers_first_active') }} as first_active
        on first_active.customer_id = customer_facts.customer_id
        and first_active.first_active_day <= customer_facts.end_day
)

select
    cast(grain as {{ dbt.type_string() }}) as grain,
    period_start,
    period_end,
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cohort_period_start,
    active_at_start,
    active_at_end,
    first_active_in_period as is_new,
    (not active_at_start and not first_active_in_period and active_at_end) as is_reactivated,
    (active_at_start and not active_at_end) as is_churned,
    mrr_start,
    mrr_end,
    cast(case
        when mrr_start = 0 and mrr_end > 0 and first_mrr_in_period then 'new'
        when mrr_start = 0 and mrr_end > 0 then 'reactivation'
        when mrr_start > 0 and mrr_end = 0 then 'churned'
        when mrr_start > 0 and mrr_end > mrr_start then 'expansion'
        when mrr_end > 0 and mrr_end < mrr_start then 'contraction'
        when mrr_start > 0 then 'unchanged'
        else 'none'
    end as {{ dbt.type_string() }}) as mrr_movement,
    cast(mrr_end - mrr_start as decimal(18, 4)) as mrr_change,
    recognised_revenue,
    order_count,
    {{ built_with_columns(built_with) }}
from joined
