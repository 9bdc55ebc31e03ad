{#-
    Per-customer incremental models (tag customer_scoped): an incremental run rebuilds only the customers that loads
    recorded since the model's own last build. Ingest lists, per load, every customer whose rows it inserted,
    replaced or deleted in ingest.changed_customers (stg_ingest__changed_customers). Each such model stores, in
    `loaded_through`, the newest load there was when it wrote a row; the loads after max(loaded_through) are the
    ones it has not reflected yet. A failed build writes nothing, so the next one covers its loads again (each
    model keeps its own mark, so a model that failed catches up while the others do not redo their work).

    The pre-hook deletes the rebuilt customers' rows before the model appends them again. After the delete the mark
    can only fall when every row with the newest mark was deleted; the customers the lower mark adds then have no
    rows left, so nothing is appended twice.

    Every customer is rebuilt on a first build, with --full-refresh, or when a setting the model records changed
    (built_with.sql). Each model names `-- depends_on: {{ ref('stg_ingest__changed_customers') }}`: the ref below
    sits in a branch that dbt does not render while parsing.
-#}
{% macro changed_customers() -%}
    select customer_id from {{ ref('stg_ingest__changed_customers') }}
    where loaded_at > (select coalesce(max(loaded_through), cast('1900-01-01' as timestamp)) from {{ this }})
{%- endmacro %}

{% macro rebuilt_customers(built_with) -%}
    {%- if is_incremental() -%}
        (customer_id in ({{ changed_customers() }}) or {{ built_with_changed(built_with) }})
    {%- else -%}
        (1 = 1)
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of the per-customer models: on an incremental run, empty the rows about to be rebuilt. -#}
{% macro delete_rebuilt_customers(built_with) %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ rebuilt_customers(built_with) }}
    {% endif %}
{% endmacro %}

{#- The pre_hook, as the text dbt renders when the hook runs (a config value cannot hold the list itself). -#}
{% macro delete_rebuilt_customers_hook(built_with) -%}
    {{- return('{{ delete_rebuilt_customers(' ~ (built_with | tojson) ~ ') }}') -}}
{%- endmacro %}

{#- The columns every per-customer model ends with: the mark of the newest load there is, and its settings. -#}
{% macro per_customer_columns(built_with) -%}
    (select max(loaded_at) from {{ ref('stg_ingest__changed_customers') }}) as loaded_through
    {%- if built_with %},
    {{ built_with_columns(built_with) }}
    {%- endif -%}
{%- endmacro %}

{#- Materialization of a per-customer model; on Spark (parquet tables cannot DELETE) a table rebuilt whole. -#}
{% macro incremental_where_supported() -%}
    {{- return('table' if target.type == 'spark' else 'incremental') -}}
{%- endmacro %}
