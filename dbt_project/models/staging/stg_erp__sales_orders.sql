with

source as (

    select * from {{ source('raw', 'erp_sales_orders') }}
    where {{ not_quarantined('erp/sales_orders') }}

),

renamed as (

    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_cast('line_no', 'bigint') }} as line_no,
        {{ clean_cast('order_date', 'date') }} as order_date,
        {{ clean_cast('requested_date', 'date') }} as requested_date,
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('quantity', 'double') }} as quantity,
        {{ clean_cast('net_amount', 'double') }} as net_amount,
        -- statuses arrive in any case (Invoiced, INVOICED): keep one
        lower({{ clean_text('status') }}) as status,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
