with

source as (

    select * from {{ source('raw', 'crm_accounts') }}
    where {{ not_quarantined('crm/accounts') }}

),

renamed as (

    select
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('name') }} as name,
        {{ clean_text('segment') }} as segment,
        {{ clean_text('region') }} as region,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
