{{ config(materialized='table') }}

with loaded_days as (
    select max(issued_on) as loaded_day from {{ ref('stg_billing__invoices') }}
    union all
    select max(ordered_on) as loaded_day from {{ ref('stg_shop__orders') }}
)

select max(loaded_day) as as_of_day
from loaded_days
