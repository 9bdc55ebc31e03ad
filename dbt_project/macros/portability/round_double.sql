{#-
    A DOUBLE rounded to `digits` decimals the way DuckDB's round() does it: scale, round half away from zero,
    unscale, all in DOUBLE. Spark's round() rounds the double's shortest decimal text instead, so a quotient like
    372.5865 / 30 (the double just below 12.41955) gives 12.4196 on Spark and 12.4195 on DuckDB. Rounding the
    scaled value to an integer is the same on both, so the Spark version spells that out.
-#}
{% macro round_double(expr, digits) %}
    {{ return(adapter.dispatch('round_double', 'retention')(expr, digits)) }}
{% endmacro %}

{% macro default__round_double(expr, digits) %}round({{ expr }}, {{ digits }}){% endmacro %}

{% macro spark__round_double(expr, digits) %}(round(({{ expr }}) * pow(10, {{ digits }})) / pow(10, {{ digits }})){% endmacro %}
