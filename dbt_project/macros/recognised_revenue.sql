{#-
    Revenue recognised from one invoice line over recognised_days of its service_days: the line's amount spread
    evenly over its service days, rounded to 4 decimals (DECIMAL(18,4)). Shared by int_customer_revenue_recognised
    (per period) and customer_value (trailing 12 months), so both use the same recognition.
    The division and the rounding are DuckDB's on every engine: DuckDB divides a DECIMAL in DOUBLE (Spark would in
    DECIMAL) and rounds the double as round_double() does.
-#}
{% macro recognised_line_revenue(amount_expr, recognised_days_expr, service_days_expr) %}
cast(
    {{ round_double('cast(' ~ amount_expr ~ ' * ' ~ recognised_days_expr ~ ' as double) / ' ~ service_days_expr, 4) }}
    as decimal(18, 4)
)
{% endmacro %}
