{#-
    dbt's own `unique` test on DuckDB (dbt dispatches test_unique to the root project first): the same failing rows
    as dbt's default__test_unique, but the grouping by the column runs only when a count of distinct values is
    below the count of non-null values, which is cheaper on tables of millions of rows without duplicates.
-#}
{% macro duckdb__test_unique(model, column_name) %}
with value_counts as (
    select count({{ column_name }}) as value_count, count(distinct {{ column_name }}) as distinct_count
    from {{ model }}
)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and (select value_count > distinct_count from value_counts)
group by {{ column_name }}
having count(*) > 1
{% endmacro %}
