{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with spans as (
    select customer_id, min(active_from) as first_active_day
    from {{ ref('int_activity_spans') }}
    where {{ rebuilt_customers(built_with) }}
    group by customer_id
),

first_mrr as (
    select customer_id, min(valid_from) as first_mrr_day
    from {{ ref('int_customer_mrr_intervals') }}
    where {{ rebuilt_customers(built_with) }}
    group by customer_id
),

customers as (
    select customer_id, segment from {{ ref('stg_crm__customers') }}
    where {{ rebuilt_customers(built_with) }}
)

select
    spans.customer_id,
    spans.first_active_day,
    first_mrr.first_mrr_day,
    coalesce(customers.segment, 'unknown') as segment,
    {{ per_customer_columns(built_with) }}
from spans
left join first_mrr on first_mrr.customer_id = spans.customer_id
left join customers on customers.customer_id = spans.customer_id
