select
    loaded_at,
    entity,
    customer_id
from {{ source('ingest', 'changed_customers') }}
