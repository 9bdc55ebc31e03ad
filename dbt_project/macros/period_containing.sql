{#- Start of the period of grain grain_expr ('month' | 'quarter' | 'year') that contains day_expr, as a DATE. -#}
{% macro period_containing(grain_expr, day_expr) %}
cast(
    case {{ grain_expr }}
        when 'month' then {{ dbt.date_trunc('month', day_expr) }}
        when 'quarter' then {{ dbt.date_trunc('quarter', day_expr) }}
        when 'year' then {{ dbt.date_trunc('year', day_expr) }}
    end as date
)
{% endmacro %}
