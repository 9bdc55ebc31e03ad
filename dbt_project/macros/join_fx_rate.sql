{#- Left-joins the rate of the nearest rate_date on or before date_expr for currency_expr, as alias.rate. -#}
{% macro join_fx_rate(fx_rates, currency_expr, date_expr, alias='fx') %}
    {{ return(adapter.dispatch('join_fx_rate', 'retention')(fx_rates, currency_expr, date_expr, alias)) }}
{% endmacro %}

{% macro duckdb__join_fx_rate(fx_rates, currency_expr, date_expr, alias) %}
asof left join {{ fx_rates }} as {{ alias }}
    on {{ alias }}.currency = {{ currency_expr }}
    and {{ date_expr }} >= {{ alias }}.rate_date
{% endmacro %}

{% macro default__join_fx_rate(fx_rates, currency_expr, date_expr, alias) %}
left join (
    select
        currency,
        rate_date,
        rate,
        lead(rate_date) over (partition by currency order by rate_date) as next_rate_date
    from {{ fx_rates }}
) as {{ alias }}
    on {{ alias }}.currency = {{ currency_expr }}
    and {{ date_expr }} >= {{ alias }}.rate_date
    and ({{ alias }}.next_rate_date is null or {{ date_expr }} < {{ alias }}.next_rate_date)
{% endmacro %}
