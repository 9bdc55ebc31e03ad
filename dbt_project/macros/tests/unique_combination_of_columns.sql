{#- The SQL of the generic test unique_combination_of_columns (tests/generic/). -#}
{% macro default__test_unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endmacro %}

{#-
    The same rows, cheaper on DuckDB when there is no duplicate (the usual case): one count of distinct key hashes
    (a set of 64-bit numbers instead of a grouping by the columns), and the grouping only when that count is below
    the row count. Equal keys have equal hashes, so a duplicate always reaches the grouping; two different keys
    with one hash reach it too and are not reported, since the grouping is by the columns themselves.
-#}
{% macro duckdb__test_unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') %}
with key_counts as (
    select count(*) as row_count, count(distinct hash({{ columns }})) as key_count
    from {{ model }}
)

select {{ columns }}, count(*) as occurrences
from {{ model }}
where (select row_count > key_count from key_counts)
group by {{ columns }}
having count(*) > 1
{% endmacro %}
