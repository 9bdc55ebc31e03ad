{#-
    Rows of the partition window [window_start, window_end) (ISO dates, quarter-aligned):
    month and quarter rows whose period starts in the window, and year rows of every year overlapping it.
-#}
{% macro in_partition_window(grain_expr='grain', period_start_expr='period_start') %}
(
    case
        when {{ grain_expr }} = 'year' then
            {{ period_start_expr }} >= {{ dbt.date_trunc('year', partition_window_start()) }}
            and {{ period_start_expr }} < {{ partition_window_end() }}
        else
            {{ period_start_expr }} >= {{ partition_window_start() }}
            and {{ period_start_expr }} < {{ partition_window_end() }}
    end
)
{% endmacro %}

{% macro partition_window_start() %}{{ return(adapter.dispatch('partition_window_start', 'retention')()) }}{% endmacro %}

{% macro partition_window_end() %}{{ return(adapter.dispatch('partition_window_end', 'retention')()) }}{% endmacro %}

{#- The window comes from the environment (Dagster sets it per run, see pipeline/transform/dbt_vars.py) unless a
    var sets it (dbt unit tests, or `dbt build --vars`); without either it is all history. -#}
{% macro default__partition_window_start() -%}
cast('{{ var("window_start", env_var("DBT_RETENTION_WINDOW_START", "1900-01-01")) }}' as date)
{%- endmacro %}

{% macro default__partition_window_end() -%}
cast('{{ var("window_end", env_var("DBT_RETENTION_WINDOW_END", "9999-01-01")) }}' as date)
{%- endmacro %}

{#-
    On Spark the period marts are plain tables (dbt_project.yml): parquet tables without Delta cannot DELETE, so the
    delete-then-append of a window has no equivalent there. Every run rebuilds all periods instead, so the window
    is all history whatever the vars say: a one-quarter run is then correct, only not incremental.
-#}
{% macro spark__partition_window_start() %}cast('1900-01-01' as date){% endmacro %}

{% macro spark__partition_window_end() %}cast('9999-01-01' as date){% endmacro %}

{#- pre_hook of the partitioned marts: on an incremental run, empty the window before its rows are appended. -#}
{% macro delete_partition_window(period_start_expr='period_start') %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ in_partition_window('grain', period_start_expr) }}
    {% endif %}
{% endmacro %}
