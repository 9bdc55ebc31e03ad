select
    invoice_id,
    line_id,
    customer_id,
    subscription_id,
    amount,
    currency,
    period_start,
    period_end,
    status,
    issued_at,
    cast(issued_at as date) as issued_on
from {{ source('billing', 'invoices') }}
