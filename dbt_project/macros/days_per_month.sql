{#-
    The average month, 365.25 / 12 days, as a DOUBLE. A bare 30.4375 is a DECIMAL literal: DuckDB divides by it in
    DOUBLE, Spark in DECIMAL (7 decimals), which moves monthly amounts by 0.0001 now and then; the cast makes every
    engine divide in DOUBLE, as DuckDB always did.
-#}
{% macro days_per_month() %}cast(30.4375 as double){% endmacro %}
