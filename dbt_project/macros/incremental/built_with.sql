{#-
    The settings an incremental model's rows depend on, recorded beside them as columns: `reporting_currency` (the
    var) and `activity_window_days` (W, from int_activity_window). A model lists them once,
    `{%- set built_with = [...] -%}`, passes the list to its scope macros and selects `built_with_columns(built_with)`.
    When one of them differs from what the model's table holds, `built_with_changed(built_with)` is true and the
    model rebuilds every customer or all history in the same build (customer_scope.sql, partition_window.sql): a
    new W or a new reporting currency changes every row, whatever the partition window or the changed customers.
    A model recording activity_window_days also names `-- depends_on: {{ ref('int_activity_window') }}`.
-#}
{% macro built_with_value(setting) -%}
    {%- if setting == 'reporting_currency' -%}
        cast('{{ var("reporting_currency") | upper }}' as {{ dbt.type_string() }})
    {%- elif setting == 'activity_window_days' -%}
        (select activity_window_days from {{ ref('int_activity_window') }})
    {%- else -%}
        {{ exceptions.raise_compiler_error("built_with: unknown setting " ~ setting) }}
    {%- endif -%}
{%- endmacro %}

{% macro built_with_columns(built_with) -%}
    {%- for setting in built_with %}
    {{ built_with_value(setting) }} as {{ setting }}{{ "," if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- True on an incremental run when a recorded setting differs from the current one (an empty table holds none). -#}
{% macro built_with_changed(built_with) -%}
    {%- if not is_incremental() or not built_with -%}
        (1 = 0)
    {%- else -%}
        ({% for setting in built_with -%}
            {{ built_with_value(setting) }} is distinct from (select max({{ setting }}) from {{ this }})
            {%- if not loop.last %} or {% endif %}
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}
