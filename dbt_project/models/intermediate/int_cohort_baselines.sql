with cohorts as (
    select customer_id, grain, cohort_period_start
    from {{ ref('int_customer_cohorts') }}
),

revenue as (
    select customer_id, grain, period_start, recognised_revenue
    from {{ ref('int_customer_revenue_recognised') }}
)

select
    cohorts.grain,
    cohorts.cohort_period_start,
    cast(count(*) as bigint) as cohort_size,
    cast(coalesce(sum(revenue.recognised_revenue), 0) as decimal(18, 4)) as cohort_revenue
from cohorts
left join revenue
    on revenue.customer_id = cohorts.customer_id
    and revenue.grain = cohorts.grain
    and revenue.period_start = cohorts.cohort_period_start
group by cohorts.grain, cohorts.cohort_period_start
