{#- The column is above zero wherever it is set (a size or a multiple: 0 means nothing). -#}
{% test positive(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} <= 0

{% endtest %}
