{#-
    Customer-scoped incremental models (models/intermediate/by_customer/). When Dagster passes the bounds of the
    loads since their last build (DBT_RETENTION_CHANGED_AFTER / _THROUGH, pipeline/transform/customer_scope.py), an
    incremental run deletes and rebuilds the rows of the customers in int_customers_changed only. Without bounds (a
    first build, --full-refresh, or a hand-run `dbt build`) every customer is rebuilt.
    Each such model names `-- depends_on: {{ ref('int_customers_changed') }}`: the ref below sits in a branch that
    dbt does not render while parsing.
-#}
{% macro customer_scope_active() -%}
    {{- return(env_var('DBT_RETENTION_CHANGED_AFTER', '') | trim != '') -}}
{%- endmacro %}

{% macro rebuilt_customers(customer_column='customer_id') -%}
    {%- if is_incremental() and customer_scope_active() -%}
        {{ customer_column }} in (select customer_id from {{ ref('int_customers_changed') }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of the customer-scoped models: on an incremental run, empty the rows about to be rebuilt. -#}
{% macro delete_changed_customers() %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ rebuilt_customers('customer_id') }}
    {% endif %}
{% endmacro %}

{#- The bounds of the loads to rebuild; without them, every load. -#}
{% macro changed_customers_after() -%}
cast('{{ env_var("DBT_RETENTION_CHANGED_AFTER", "") | trim or "1900-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}

{% macro changed_customers_through() -%}
cast('{{ env_var("DBT_RETENTION_CHANGED_THROUGH", "") | trim or "9999-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}

{#- Rows of ingest.changed_customers (or a view of it) from the loads within those bounds. -#}
{% macro loads_in_scope() -%}
    {{- return('loaded_at > ' ~ changed_customers_after() ~ ' and loaded_at <= ' ~ changed_customers_through()) -}}
{%- endmacro %}
