{#-
    Partitioned incremental models (tag partitioned): an incremental run replaces the rows of the partition window
    [window_start, window_end), quarter-aligned, that Dagster's partitions give the run: month and quarter rows
    whose period starts in the window, and year rows of every year overlapping it. A first build, a full refresh,
    or a run after a recorded setting changed (built_with.sql) builds all history instead.

    The window reaches dbt as the environment variables DBT_RETENTION_WINDOW_START / _END, set for each dbt
    invocation by pipeline/transform/assets.py (vars would make dbt parse the whole project again whenever the
    window changes); a `window_start` / `window_end` var (dbt unit tests) takes precedence. Without either, the
    window is all history.
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

{#- The rows this run of the model rebuilds: the window; all history on a first build or --full-refresh (a table
    built from one window would lack every other quarter) or when a recorded setting changed. -#}
{% macro in_rebuilt_window(built_with, grain_expr='grain', period_start_expr='period_start') -%}
    {%- if is_incremental() -%}
        ({{ in_partition_window(grain_expr, period_start_expr) }} or {{ built_with_changed(built_with) }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{% macro partition_window_start() %}{{ return(adapter.dispatch('partition_window_start', 'retention')()) }}{% endmacro %}

{% macro partition_window_end() %}{{ return(adapter.dispatch('partition_window_end', 'retention')()) }}{% endmacro %}

{% macro default__partition_window_start() -%}
cast('{{ var("window_start", env_var("DBT_RETENTION_WINDOW_START", "1900-01-01")) }}' as date)
{%- endmacro %}

{% macro default__partition_window_end() -%}
cast('{{ var("window_end", env_var("DBT_RETENTION_WINDOW_END", "9999-01-01")) }}' as date)
{%- endmacro %}

{#-
    On Spark the partitioned models are plain tables: parquet tables without Delta cannot DELETE, so the
    delete-then-append of a window has no equivalent there. Every run rebuilds all periods instead, so the window
    is all history whatever the environment says: a one-quarter run is then correct, only not incremental.
-#}
{% macro spark__partition_window_start() %}cast('1900-01-01' as date){% endmacro %}

{% macro spark__partition_window_end() %}cast('9999-01-01' as date){% endmacro %}

{#- pre_hook of the partitioned models: on an incremental run, empty the rows about to be rebuilt. -#}
{% macro delete_rebuilt_window(built_with, period_start_expr='period_start') %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ in_rebuilt_window(built_with, 'grain', period_start_expr) }}
    {% endif %}
{% endmacro %}

{#- The pre_hook, as the text dbt renders when the hook runs (a config value cannot hold the list itself). -#}
{% macro delete_rebuilt_window_hook(built_with, period_start_expr='period_start') -%}
    {{- return('{{ delete_rebuilt_window(' ~ (built_with | tojson) ~ ", '" ~ period_start_expr ~ "') }}") -}}
{%- endmacro %}
