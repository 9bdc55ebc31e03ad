-- depends_on: {{ ref('int_customers_changed') }}
with spans as (
    select customer_id, min(active_from) as first_active_day
    from {{ ref('int_activity_spans') }}
    where {{ rebuilt_customers() }}
    group by customer_id
),

first_mrr as (
    select customer_id, min(valid_from) as first_mrr_day
    from {{ ref('int_customer_mrr_intervals') }}
    where {{ rebuilt_customers() }}
    group by customer_id
),

customers as (
    select customer_id, segment from {{ ref('stg_crm__customers') }}
    where {{ rebuilt_customers() }}
)

select
    spans.customer_id,
    spans.first_active_day,
    first_mrr.first_mrr_day,
    coalesce(customers.segment, 'unknown') as segment
from spans
left join first_mrr on first_mrr.customer_id = spans.customer_id
left join customers on customers.customer_id = spans.customer_id
