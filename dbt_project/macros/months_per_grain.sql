{% macro months_per_grain(grain_expr) %}
(case {{ grain_expr }} when 'month' then 1 when 'quarter' then 3 when 'year' then 12 end)
{% endmacro %}
