with

source as (

    select * from {{ source('raw', 'stock_inventory') }}
    where {{ not_quarantined('stock/inventory') }}

),

renamed as (

    select
        {{ clean_cast('snapshot_date', 'date') }} as snapshot_date,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('on_hand_qty', 'double') }} as on_hand_qty,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
