{#- Who to contact: the CRM's name and email of every customer, for the outreach export of churned customers. -#}
{{ config(materialized='table') }}

select
    cast(customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(customer_name as {{ dbt.type_string() }}) as name,
    cast(email as {{ dbt.type_string() }}) as email
from {{ ref('stg_crm__customers') }}
