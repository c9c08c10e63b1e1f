{#-
    Casts for raw columns. From CSV a raw column is VARCHAR, from Parquet it may already be
    typed, so go through text: trim it, treat an empty string as null, then cast.
-#}
{% macro clean_text(column) -%}
    nullif(trim(cast({{ column }} as varchar)), '')
{%- endmacro %}

{% macro clean_cast(column, data_type) -%}
    cast({{ clean_text(column) }} as {{ data_type }})
{%- endmacro %}
