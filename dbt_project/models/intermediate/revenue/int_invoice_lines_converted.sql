{%- set built_with = ['reporting_currency'] -%}
{{ config(
    materialized=incremental_where_supported(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=delete_rebuilt_customers_hook(built_with),
    tags=['customer_scoped'],
) }}
-- depends_on: {{ ref('stg_ingest__changed_customers') }}
with lines as (
    select * from {{ ref('stg_billing__invoices') }}
    where {{ rebuilt_customers(built_with) }}
),

rated as (
    select
        lines.*,
        case
            when lines.currency = '{{ var("reporting_currency") | upper }}' then cast(1 as decimal(18, 8))
            when fx.rate > 0 then fx.rate
        end as fx_rate
    from lines
    {{ join_fx_rate(ref('stg_finance__fx_rates'), 'lines.currency', 'lines.period_start') }}
),

measured as (
    select
        rated.*,
        {{ dbt.datediff('period_start', 'period_end', 'day') }} as service_days,
        cast(round({{ dbt.datediff('period_start', 'period_end', 'day') }} / {{ days_per_month() }}) as integer)
            as nearest_months
    from rated
),

converted as (
    select
        invoice_id,
        line_id,
        customer_id,
        subscription_id,
        status,
        status in ('paid', 'open') as is_recognised,
        period_start,
        period_end,
        issued_on,
        service_days,
        case
            when nearest_months >= 1 and abs(service_days - nearest_months * 30.4375) <= 3
                then cast(nearest_months as double)
            else service_days / {{ days_per_month() }}
        end as billing_months,
        amount,
        currency,
        fx_rate,
        fx_rate is not null as has_fx_rate,
        cast(round(amount * fx_rate, 4) as decimal(18, 4)) as amount_reporting
    from measured
)

select
    *,
    cast({{ round_double('amount_reporting / billing_months', 4) }} as decimal(18, 4)) as monthly_amount,
    {{ per_customer_columns(built_with) }}
from converted
