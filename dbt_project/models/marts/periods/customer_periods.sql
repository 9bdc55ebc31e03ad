{{ config(pre_hook="{{ delete_partition_window('period_start') }}") }}

with periods as (
    select grain, period_start, period_end, start_day, end_day
    from {{ ref('int_periods') }}
    where {{ in_partition_window('grain', 'period_start') }}
),

span_facts as (
    select
        periods.grain,
        periods.period_start,
        spans.customer_id,
        case when spans.active_from <= periods.start_day then 1 else 0 end as at_start,
        case when spans.active_to > periods.end_day then 1 else 0 end as at_end,
        cast(0 as decimal(18, 4)) as mrr_start,
        cast(0 as decimal(18, 4)) as mrr_end,
        cast(0 as decimal(18, 4)) as recognised_revenue,
        0 as order_count
    from periods
    inner join {{ ref('int_activity_spans') }} as spans
        on spans.active_from <= periods.end_day
        and spans.active_to > periods.start_day
),

mrr_start_facts as (
    select
        periods.grain,
        periods.period_start,
        intervals.customer_id,
        0 as at_start,
        0 as at_end,
        intervals.mrr as mrr_start,
        cast(0 as decimal(18, 4)) as mrr_end,
        cast(0 as decimal(18, 4)) as recognised_revenue,
        0 as order_count
    from periods
    inner join {{ ref('int_customer_mrr_intervals') }} as intervals
        on intervals.valid_from <= periods.start_day
        and intervals.valid_to > periods.start_day
),

mrr_end_facts as (
    select
        periods.grain,
        periods.period_start,
        intervals.customer_id,
        0 as at_start,
        0 as at_end,
        cast(0 as decimal(18, 4)) as mrr_start,
        intervals.mrr as mrr_end,
        cast(0 as decimal(18, 4)) as recognised_revenue,
        0 as order_count
    from periods
    inner join {{ ref('int_customer_mrr_intervals') }} as intervals
        on intervals.valid_from <= periods.end_day
        and intervals.valid_to > periods.end_day
),

revenue_facts as (
    select
        revenue.grain,
        revenue.period_start,
        revenue.customer_id,
        0 as at_start,
        0 as at_end,
        cast(0 as decimal(18, 4)) as mrr_start,
        cast(0 as decimal(18, 4)) as mrr_end,
        revenue.recognised_revenue,
        revenue.order_count
    from {{ ref('int_customer_revenue_recognised') }} as revenue
    where {{ in_partition_window('revenue.grain', 'revenue.period_start') }}
),

customer_facts as (
    select
        grain,
        period_start,
        customer_id,
        max(at_start) = 1 as active_at_start,
        max(at_end) = 1 as active_at_end,
        sum(mrr_start) as mrr_start,
        sum(mrr_end) as mrr_end,
        sum(recognised_revenue) as recognised_revenue,
        sum(order_count) as order_count
    from (
        select * from span_facts
        union all
        select * from mrr_start_facts
        union all
        select * from mrr_end_facts
        union all
        select * from revenue_facts
    ) as facts
    group by grain, period_start, customer_id
),

joined as (
    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        customer_facts.customer_id,
        {{ period_containing('periods.grain', 'first_active.first_active_day') }} as cohort_period_start,
        customer_facts.active_at_start,
        customer_facts.active_at_end,
        first_active.first_active_day >= periods.period_start as first_active_in_period,
        coalesce(first_active.first_mrr_day >= periods.period_start, false) as first_mrr_in_period,
        cast(customer_facts.mrr_start as decimal(18, 4)) as mrr_start,
        cast(customer_facts.mrr_end as decimal(18, 4)) as mrr_end,
        cast(customer_facts.recognised_revenue as decimal(18, 4)) as recognised_revenue,
        cast(customer_facts.order_count as bigint) as order_count
    from customer_facts
    inner join periods
        on periods.grain = customer_facts.grain
        and periods.period_start = customer_facts.period_start
    inner join {{ ref('int_customers_first_active') }} as first_active
        on first_active.customer_id = customer_facts.customer_id
        and first_active.first_active_day <= periods.end_day
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
    order_count
from joined
