with

source as (

    select * from {{ source('raw', 'erp_items') }}
    where {{ not_quarantined('erp/items') }}

),

renamed as (

    select
        {{ clean_text('sku') }} as sku,
        {{ clean_text('description') }} as description,
        {{ clean_text('family') }} as family,
        {{ clean_text('uom') }} as uom,
        {{ clean_cast('unit_cost', 'double') }} as unit_cost,
        {{ clean_cast('unit_price', 'double') }} as unit_price,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('make_or_buy') }}) as make_or_buy,
        {{ clean_cast('lead_time_days', 'double') }} as lead_time_days,
        {{ clean_cast('min_order_qty', 'double') }} as min_order_qty,
        {{ clean_cast('order_multiple', 'double') }} as order_multiple,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
