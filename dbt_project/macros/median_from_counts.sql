{#-
    The median of values given with how often each occurs, exactly as percentile_cont(0.5) over the values
    repeated: the k-th smallest of n is the smallest value with at least k occurrences up to it, and the median is
    the mean of the floor((n + 1) / 2)-th and the floor((n + 2) / 2)-th. `relation` has columns `value_column` and
    `count_column`; with `group_by`, one median per group. A select statement, to be used as a CTE or subquery.
-#}
{% macro median_from_counts(relation, value_column, count_column, group_by=none) -%}
{%- set partition = 'partition by ' ~ group_by if group_by else '' -%}
select
    {% if group_by %}{{ group_by }},{% endif %}
    (
        min(case when counted_through >= floor((counted + 1) / 2) then {{ value_column }} end)
        + min(case when counted_through >= floor((counted + 2) / 2) then {{ value_column }} end)
    ) / 2.0 as median_value
from (
    select
        {% if group_by %}{{ group_by }},{% endif %}
        {{ value_column }},
        sum({{ count_column }}) over (
            {{ partition }} order by {{ value_column }} rows between unbounded preceding and current row
        ) as counted_through,
        sum({{ count_column }}) over ({{ partition }}) as counted
    from {{ relation }}
) as cumulative
{% if group_by %}group by {{ group_by }}{% endif %}
{%- endmacro %}
