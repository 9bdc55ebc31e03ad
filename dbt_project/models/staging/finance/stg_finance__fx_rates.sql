select
    {{ adapter.quote("date") }} as rate_date,
    currency,
    rate
from {{ source('finance', 'fx_rates') }}
