{#-
    Churned customers of each period (customer_periods.is_churned) by the reason they gave nearest in time to their
    churn day: the first day in the period they are not active, i.e. the exclusive end (active_to) of the active
    span that contains the period's start day. A table rebuilt whole in every build: a new
    survey answer can change the reason of any of that customer's churns, however old, so no quarter window fits.
-#}
{{ config(materialized='table') }}

with churned as (
    select
        customer_periods.grain,
        customer_periods.period_start,
        customer_periods.customer_id,
        customer_periods.mrr_start,
        cast({{ dbt.dateadd('day', -1, 'customer_periods.period_start') }} as date) as start_day
    from {{ ref('customer_periods') }} as customer_periods
    where customer_periods.is_churned
),

churn_days as (
    select
        churned.grain,
        churned.period_start,
        churned.customer_id,
        churned.mrr_start,
        min(spans.active_to) as churn_day
    from churned
    inner join {{ ref('int_activity_spans') }} as spans
        on spans.customer_id = churned.customer_id
        and spans.active_from <= churned.start_day
        and spans.active_to > churned.start_day
    group by churned.grain, churned.period_start, churned.customer_id, churned.mrr_start
),

feedback as (
    select customer_id, submitted_at, lower(trim(reason)) as reason
    from {{ ref('stg_crm__churn_feedback') }}
    where nullif(trim(reason), '') is not null
),

ranked as (
    select
        churn_days.grain,
        churn_days.period_start,
        churn_days.customer_id,
        churn_days.mrr_start,
        feedback.reason,
        row_number() over (
            partition by churn_days.grain, churn_days.period_start, churn_days.customer_id
            order by
                abs({{ dbt.datediff('cast(churn_days.churn_day as timestamp)', 'feedback.submitted_at', 'second') }}),
                feedback.submitted_at,
                feedback.reason
        ) as nearness
    from churn_days
    left join feedback on feedback.customer_id = churn_days.customer_id
),

reasons as (
    select grain, period_start, customer_id, mrr_start, coalesce(reason, 'no_feedback') as reason
    from ranked
    where nearness = 1
),

counts as (
    select
        grain,
        period_start,
        reason,
        count(*) as churned_customers,
        sum(mrr_start) as churned_mrr
    from reasons
    group by grain, period_start, reason
),

totals as (
    select grain, period_start, sum(churned_customers) as period_churned
    from counts
    group by grain, period_start
)

select
    cast(counts.grain as {{ dbt.type_string() }}) as grain,
    counts.period_start,
    cast(counts.reason as {{ dbt.type_string() }}) as reason,
    cast(counts.churned_customers as bigint) as churned_customers,
    {{ safe_percentage('counts.churned_customers', 'totals.period_churned') }} as share,
    cast(counts.churned_mrr as decimal(18, 4)) as churned_mrr
from counts
inner join totals
    on totals.grain = counts.grain
    and totals.period_start = counts.period_start
