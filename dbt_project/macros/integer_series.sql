{#- A set-returning select-list expression yielding 0, 1, ..., upper_expr (one row each). -#}
{% macro integer_series(upper_expr) %}
    {{ return(adapter.dispatch('integer_series', 'retention')(upper_expr)) }}
{% endmacro %}

{% macro default__integer_series(upper_expr) %}
unnest(generate_series(0, {{ upper_expr }}))
{% endmacro %}

