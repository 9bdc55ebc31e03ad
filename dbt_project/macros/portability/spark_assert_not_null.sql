{#-
    Overrides dbt-spark's assert_not_null, which its datediff and dateadd wrap around every argument and which
    raises when a date is null. The models rely on standard SQL null propagation instead (lag() of a customer's
    first order day, dates from left joins), which is what dbt.datediff does on DuckDB and every other engine.
-#}
{% macro spark__assert_not_null(function, arg) %}
{{ function }}({{ arg }})
{% endmacro %}
