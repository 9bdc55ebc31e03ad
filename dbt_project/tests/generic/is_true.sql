{#- Fails (or warns) with one result per row whose boolean column is not true. -#}
{% test is_true(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null or not {{ column_name }}
{% endtest %}
