{#-
    A set-returning select-list expression yielding 0, 1, ..., upper_expr (one row each). Each engine spells a
    generated series differently, so int_periods builds its month spine through this dispatch.
-#}
{% macro integer_series(upper_expr) %}
    {{ return(adapter.dispatch('integer_series', 'retention')(upper_expr)) }}
{% endmacro %}

{% macro duckdb__integer_series(upper_expr) %}
unnest(generate_series(0, {{ upper_expr }}))
{% endmacro %}

{% macro spark__integer_series(upper_expr) %}
explode(sequence(0, cast({{ upper_expr }} as int)))
{% endmacro %}

{#- There is no standard SQL for it: a new engine gets its own <adapter>__integer_series. -#}
{% macro default__integer_series(upper_expr) %}
    {{ exceptions.raise_compiler_error(
        "integer_series has no implementation for adapter " ~ adapter.type() ~ ": add " ~ adapter.type()
        ~ "__integer_series to macros/integer_series.sql"
    ) }}
{% endmacro %}
