{#-
    Filter for a staging model's `source` CTE: keeps the raw rows of `entity` (the contract
    name, e.g. 'erp/items') whose `_row_number` was not quarantined by the Python validation.
    A row is dropped if any rule quarantined it; every quarantine row stays queryable in
    raw.quarantine. Use it as the one `where` line after the source:

        select * from {{ source('raw', 'erp_items') }} where {{ not_quarantined('erp/items') }}
-#}
{% macro not_quarantined(entity, row_number_column='_row_number') -%}
    not exists (
        select 1
        from {{ source('raw', 'quarantine') }} as quarantine
        where quarantine.entity = '{{ entity }}'
            and cast(quarantine.row_number as bigint) = cast({{ row_number_column }} as bigint)
    )
{%- endmacro %}
