with

source as (

    select * from {{ source('raw', 'plan_overrides') }}
    where {{ not_quarantined('plan/overrides') }}

),

renamed as (

    select
        {{ clean_cast('month', 'date') }} as month,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('family') }} as family,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('quantity', 'double') }} as quantity,
        {{ clean_cast('pct_change', 'double') }} as pct_change,
        {{ clean_text('reason') }} as reason,
        {{ clean_text('author') }} as author,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
