{#- Fails with one row (the key and its occurrences) per combination of the columns that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {{ adapter.dispatch('test_unique_combination_of_columns', 'retention')(model, combination_of_columns) }}
{% endtest %}
