select
    customer_id,
    name as customer_name,
    email,
    country,
    nullif(trim(segment), '') as segment,
    created_at
from {{ source('crm', 'customers') }}
