with

source as (

    select * from {{ source('raw', 'erp_production_orders') }}
    where {{ not_quarantined('erp/production_orders') }}

),

renamed as (

    select
        {{ clean_text('mo_id') }} as mo_id,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('quantity', 'double') }} as quantity,
        {{ clean_cast('due_date', 'date') }} as due_date,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('status') }}) as status,
        {{ clean_cast('order_date', 'date') }} as order_date,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
