with

source as (

    select * from {{ source('raw', 'erp_purchase_orders') }}
    where {{ not_quarantined('erp/purchase_orders') }}

),

renamed as (

    select
        {{ clean_text('po_id') }} as po_id,
        {{ clean_cast('line_no', 'bigint') }} as line_no,
        {{ clean_text('supplier_id') }} as supplier_id,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('quantity', 'double') }} as quantity,
        {{ clean_cast('order_date', 'date') }} as order_date,
        {{ clean_cast('due_date', 'date') }} as due_date,
        {{ clean_cast('received_date', 'date') }} as received_date,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('status') }}) as status,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
