{#-
    Data tests check the rows the build wrote or read anew, not every row again: rows outside the slice were tested
    by the build that wrote them and have not changed since. The slice follows the tested model's kind (its tags):
      partitioned      rows of the partition window (grain, period_start)
      customer_scoped  rows the model's latest build wrote: those carrying its newest loaded_through mark (after a
                       full build, every row)
    and, for a staging view over raw customer data (a test with `where: newest_load`), the rows of the customers
    the newest load recorded; `where: all_rows` tests every row (a small table). Rows with a null in the slicing column always belong, so not_null tests still see
    them; a test's own `where` SQL is kept. dbt's own get_where_subquery (dispatched; dbt_project.yml searches this
    project first) does the rest.
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = rebuilt_rows_condition(config.get('where', ''), model.attached_node) -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{% macro rebuilt_rows_condition(where, tested_node) -%}
    {%- set tags = graph.nodes[tested_node].tags if tested_node in graph.nodes else [] -%}
    {%- if where == 'newest_load' -%}
        {%- set changes = changed_customers_source() -%}
        {{- return('customer_id in (select customer_id from ' ~ changes ~ ' where loaded_at = (select max(loaded_at) from '
                   ~ changes ~ ')) or customer_id is null') -}}
    {%- elif where == 'all_rows' -%}
        {{- return('') -}}
    {%- elif where -%}
        {{- return(where) -}}
    {%- elif 'partitioned' in tags -%}
        {{- return(in_partition_window('grain', 'period_start') ~ ' or period_start is null') -}}
    {%- elif 'customer_scoped' in tags -%}
        {%- set relation = graph.nodes[tested_node].relation_name -%}
        {{- return('loaded_through >= (select max(loaded_through) from ' ~ relation ~ ') or loaded_through is null') -}}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}

{#- ingest.changed_customers as a relation, from the graph: a test's SQL cannot source() what it is not attached to. -#}
{% macro changed_customers_source() -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.ingest.changed_customers'] -%}
    {{- return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.identifier)) -}}
{%- endmacro %}
