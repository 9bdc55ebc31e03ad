{#- MRR sums of the revenue-churn marts, aggregated from customer_periods rows. -#}
{% macro revenue_churn_sum_column_names() -%}
    {{- return(['mrr_start', 'new_mrr', 'expansion_mrr', 'reactivation_mrr', 'contraction_mrr', 'churned_mrr',
                'mrr_end']) -}}
{%- endmacro %}

{% macro revenue_churn_sum_columns() %}
    sum(mrr_start) as mrr_start,
    sum(case when mrr_movement = 'new' then mrr_change else 0 end) as new_mrr,
    sum(case when mrr_movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
    sum(case when mrr_movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
    sum(case when mrr_movement = 'contraction' then -mrr_change else 0 end) as contraction_mrr,
    sum(case when mrr_movement = 'churned' then -mrr_change else 0 end) as churned_mrr,
    sum(mrr_end) as mrr_end
{% endmacro %}

{#- MRR and rate columns of the revenue-churn marts from an aggregate of revenue_churn_sum_columns(). -#}
{% macro revenue_churn_metric_columns(sums) %}
    {%- set s = {} -%}
    {%- for column in revenue_churn_sum_column_names() %}
        {%- do s.update({column: 'coalesce(' ~ sums ~ '.' ~ column ~ ', 0)'}) %}
    cast({{ s[column] }} as decimal(18, 4)) as {{ column }},
    {%- endfor %}
    {{ safe_percentage(s.churned_mrr ~ ' + ' ~ s.contraction_mrr, s.mrr_start) }} as gross_mrr_churn_rate,
    {{ safe_percentage(
        s.churned_mrr ~ ' + ' ~ s.contraction_mrr ~ ' - ' ~ s.expansion_mrr ~ ' - ' ~ s.reactivation_mrr, s.mrr_start
    ) }} as net_mrr_churn_rate,
    {{ safe_percentage(
        s.mrr_start ~ ' + ' ~ s.expansion_mrr ~ ' - ' ~ s.contraction_mrr ~ ' - ' ~ s.churned_mrr, s.mrr_start
    ) }} as net_revenue_retention,
    {{ safe_percentage(s.mrr_start ~ ' - ' ~ s.contraction_mrr ~ ' - ' ~ s.churned_mrr, s.mrr_start) }}
        as gross_revenue_retention,
    {{ safe_ratio(
        s.new_mrr ~ ' + ' ~ s.expansion_mrr ~ ' + ' ~ s.reactivation_mrr, s.churned_mrr ~ ' + ' ~ s.contraction_mrr
    ) }} as quick_ratio
{% endmacro %}
