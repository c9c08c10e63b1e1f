{#-
    The combination of `combination_of_columns` is unique in the model (a composite key).
    Null counts as a value, so (month, null, 'Bikes') twice is a duplicate.
-#}
{% test unique_combination(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as duplicate_rows

from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
