{#-
    LTV and CAC per grain and period: a table rebuilt whole in every build, after the partitioned marts it reads.
    ARPA is per month: the order part is normalised by the months the period covers up to its end day.
-#}
{{ config(materialized='table') }}

with periods as (
    select
        retention.grain,
        retention.period_start,
        retention.period_end,
        retention.is_complete,
        retention.customers_new,
        spine.start_day,
        spine.end_day,
        {{ months_per_grain('retention.grain') }}
            * cast({{ dbt.datediff('spine.start_day', 'spine.end_day', 'day') }} as double)
            / {{ dbt.datediff('retention.period_start', 'retention.period_end', 'day') }} as months_covered
    from {{ ref('retention') }} as retention
    inner join {{ ref('int_periods') }} as spine
        on spine.grain = retention.grain
        and spine.period_start = retention.period_start
),

{#- Customers with MRR on the end day and with completed orders in the period, from the customer rows (one pass
    instead of counting distinct order customers over every order x period pair). -#}
customer_counts as (
    select
        grain,
        period_start,
        {{ safe_ratio(
            'sum(case when mrr_end > 0 then mrr_end else 0 end)', 'sum(case when mrr_end > 0 then 1 else 0 end)'
        ) }} as avg_mrr,
        sum(case when order_count > 0 then 1 else 0 end) as order_customers
    from {{ ref('customer_periods') }}
    group by grain, period_start
),

{#- Order revenue per day, then per period: a few thousand days instead of every order. -#}
order_days as (
    select ordered_on, sum(amount_reporting) as amount_reporting
    from {{ ref('int_orders_converted') }}
    where is_completed
    group by ordered_on
),

order_sums as (
    select
        periods.grain,
        periods.period_start,
        customer_counts.order_customers,
        coalesce(sum(order_days.amount_reporting), 0) as order_revenue
    from periods
    inner join customer_counts
        on customer_counts.grain = periods.grain
        and customer_counts.period_start = periods.period_start
    inner join order_days
        on order_days.ordered_on >= periods.period_start
        and order_days.ordered_on <= periods.end_day
    where customer_counts.order_customers > 0
    group by periods.grain, periods.period_start, customer_counts.order_customers
),

complete_months as (
    select period_start, period_end, churn_rate
    from {{ ref('retention') }}
    where grain = 'month' and is_complete
),

trailing_months as (
    select
        periods.grain,
        periods.period_start,
        complete_months.churn_rate,
        row_number() over (
            partition by periods.grain, periods.period_start order by complete_months.period_start desc
        ) as months_back
    from periods
    inner join complete_months
        on complete_months.period_end <= cast({{ dbt.dateadd('day', 1, 'periods.end_day') }} as date)
),

churn as (
    select grain, period_start, avg(churn_rate) as customer_churn_rate
    from trailing_months
    where months_back <= 6
    group by grain, period_start
),

spend_loaded as (
    select count(*) > 0 as is_loaded from {{ ref('stg_marketing__acquisition_costs') }}
),

spend as (
    select periods.grain, periods.period_start, sum(costs.amount) as acquisition_cost
    from periods
    inner join {{ ref('stg_marketing__acquisition_costs') }} as costs
        on costs.period_start >= periods.period_start
        and costs.period_start < periods.period_end
    group by periods.grain, periods.period_start
),

arpa as (
    select
        periods.grain,
        periods.period_start,
        case
            when customer_counts.avg_mrr is not null or order_sums.order_customers > 0 then
                coalesce(customer_counts.avg_mrr, 0)
                + coalesce(
                    cast(order_sums.order_revenue as double)
                    / (periods.months_covered * order_sums.order_customers),
                    0
                )
        end as arpa
    from periods
    left join customer_counts
        on customer_counts.grain = periods.grain
        and customer_counts.period_start = periods.period_start
    left join order_sums
        on order_sums.grain = periods.grain
        and order_sums.period_start = periods.period_start
),

measures as (
    select
        periods.grain,
        periods.period_start,
        periods.period_end,
        periods.is_complete,
        arpa.arpa,
        churn.customer_churn_rate,
        case when churn.customer_churn_rate > 0 then arpa.arpa * 100 / churn.customer_churn_rate end as ltv,
        periods.customers_new as new_customers,
        case when spend_loaded.is_loaded then coalesce(spend.acquisition_cost, 0) end as acquisition_cost
    from periods
    cross join spend_loaded
    left join arpa
        on arpa.grain = periods.grain
        and arpa.period_start = periods.period_start
    left join churn
        on churn.grain = periods.grain
        and churn.period_start = periods.period_start
    left join spend
        on spend.grain = periods.grain
        and spend.period_start = periods.period_start
),

ratios as (
    select
        *,
        cast(acquisition_cost as double) / nullif(new_customers, 0) as cac
    from measures
)

select
    cast(grain as {{ dbt.type_string() }}) as grain,
    period_start,
    period_end,
    is_complete,
    cast(arpa as double) as arpa,
    cast(customer_churn_rate as double) as customer_churn_rate,
    cast(ltv as double) as ltv,
    cast(new_customers as bigint) as new_customers,
    cast(acquisition_cost as decimal(18, 4)) as acquisition_cost,
    cast(cac as double) as cac,
    cast(ltv / nullif(cac, 0) as double) as ltv_to_cac,
    ltv / nullif(cac, 0) < 3 as below_3_to_1
from ratios
