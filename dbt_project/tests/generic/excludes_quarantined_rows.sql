{#-
    No row of the staging model is one that raw.quarantine lists for its contract `entity`
    (e.g. 'erp/items'): the `not_quarantined` filter held. Returns the offending rows.
-#}
{% test excludes_quarantined_rows(model, entity, row_number_column='source_row_number') %}

select staged.{{ row_number_column }}
from {{ model }} as staged
inner join {{ source('raw', 'quarantine') }} as quarantine
    on quarantine.entity = '{{ entity }}'
    and cast(quarantine.row_number as bigint) = staged.{{ row_number_column }}

{% endtest %}
