select
    period_start,
    channel,
    amount
from {{ source('marketing', 'acquisition_costs') }}
