{#- Customer counts of the retention marts, aggregated from customer_periods rows. -#}
{% macro retention_count_column_names() -%}
    {{- return(['customers_start', 'customers_new', 'customers_new_lost', 'customers_reactivated',
                'customers_churned', 'customers_end']) -}}
{%- endmacro %}

{% macro retention_count_columns() %}
    sum(case when active_at_start then 1 else 0 end) as customers_start,
    sum(case when is_new then 1 else 0 end) as customers_new,
    sum(case when is_new and not active_at_end then 1 else 0 end) as customers_new_lost,
    sum(case when is_reactivated then 1 else 0 end) as customers_reactivated,
    sum(case when is_churned then 1 else 0 end) as customers_churned,
    sum(case when active_at_end then 1 else 0 end) as customers_end
{% endmacro %}

{#- Count and rate columns of the retention marts from an aggregate of retention_count_columns(). -#}
{% macro retention_metric_columns(counts) %}
    {%- for column in retention_count_column_names() %}
    cast(coalesce({{ counts }}.{{ column }}, 0) as bigint) as {{ column }},
    {%- endfor %}
    {{ safe_percentage(counts ~ '.customers_end - ' ~ counts ~ '.customers_new', counts ~ '.customers_start') }}
        as retention_rate,
    {{ safe_percentage(counts ~ '.customers_churned', counts ~ '.customers_start') }} as churn_rate,
    100 - {{ safe_percentage(counts ~ '.customers_churned', counts ~ '.customers_start') }} as logo_retention_rate
{% endmacro %}

{#- sum(column) as column, for each of `columns`: a by-segment mart added up over its segments. -#}
{% macro sum_of_columns(columns) %}
    {%- for column in columns %}
    sum({{ column }}) as {{ column }}{{ "," if not loop.last }}
    {%- endfor %}
{% endmacro %}
