select
    customer_id,
    submitted_at,
    reason,
    comment
from {{ source('crm', 'churn_feedback') }}
