with

source as (

    select * from {{ source('raw', 'crm_deals') }}
    where {{ not_quarantined('crm/deals') }}

),

renamed as (

    select
        {{ clean_text('deal_id') }} as deal_id,
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('sku') }} as sku,
        {{ clean_cast('quantity', 'double') }} as quantity,
        {{ clean_cast('amount', 'double') }} as amount,
        {{ clean_text('stage') }} as stage,
        {{ clean_cast('probability', 'double') }} as probability,
        {{ clean_cast('expected_close_date', 'date') }} as expected_close_date,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('status') }}) as status,
        {{ clean_cast('updated_at', 'timestamp') }} as updated_at,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
