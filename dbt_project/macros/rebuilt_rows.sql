{#-
    Data tests on incremental models check the rows this build wrote, not every row again: a test's `where` config
    may name one of the slices below instead of SQL. Rows outside the slice were tested by the build that wrote
    them and have not changed since. A full build's slices are everything; rows with a null in the slicing column
    always belong, so not_null tests still see them.
      rebuilt_window     rows of the partition window (partitioned models: grain, period_start)
      rebuilt_customers  rows of the customers the loads this build reads changed (customer_id): the customers of
                         int_customers_changed, read from the ingest's own table, since the staging views' tests
                         run before that model is rebuilt
      recorded_loads     rows of the loads this build reads (stg_ingest__changed_customers: loaded_at)
    dbt's own get_where_subquery (dispatched; dbt_project.yml searches this project first) does the rest.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = rebuilt_rows_condition(config.get('where', '')) -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro rebuilt_rows_condition(where) -%}
    {%- if where == 'rebuilt_window' -%}
        {{- return(in_partition_window('grain', 'period_start') ~ ' or period_start is null') -}}
    {%- elif where in ('rebuilt_customers', 'recorded_loads') -%}
        {%- if not customer_scope_active() -%}
            {{- return('') -}}
        {%- elif where == 'rebuilt_customers' -%}
            {{- return('customer_id in (select customer_id from ' ~ changed_customers_source() ~ ' where '
                       ~ loads_in_scope() ~ ') or customer_id is null') -}}
        {%- else -%}
            {{- return(loads_in_scope() ~ ' or loaded_at is null') -}}
        {%- endif -%}
    {%- endif -%}
    {{- return(where) -}}
{%- endmacro %}

{#- ingest.changed_customers as a relation, from the graph: a test's SQL cannot source() what it is not attached to. -#}
{% macro changed_customers_source() -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.ingest.changed_customers'] -%}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) -}}
{%- endmacro %}
