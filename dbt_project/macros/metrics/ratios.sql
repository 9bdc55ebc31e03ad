{#-
    Ratios of counts or DECIMAL(., <=4) money as DOUBLE, null when the denominator is zero or null.
    Both sides are first scaled to whole numbers (x 10000), which doubles hold exactly, so the only rounding is
    the final division: equal money gives exactly 100.0 and the issue's examples give exactly 90.0 and 5.0.
-#}
{% macro exact_double(expr) %}
cast(cast(({{ expr }}) * 10000 as bigint) as double)
{% endmacro %}

{% macro safe_ratio(numerator, denominator) %}
({{ exact_double(numerator) }} / nullif({{ exact_double(denominator) }}, 0))
{% endmacro %}

{#- 100 x numerator / denominator (a percentage). -#}
{% macro safe_percentage(numerator, denominator) %}
({{ exact_double('100 * (' ~ numerator ~ ')') }} / nullif({{ exact_double(denominator) }}, 0))
{% endmacro %}
