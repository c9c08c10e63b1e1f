with

source as (

    select * from {{ source('raw', 'erp_locations') }}
    where {{ not_quarantined('erp/locations') }}

),

renamed as (

    select
        {{ clean_text('location_id') }} as location_id,
        {{ clean_text('name') }} as name,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('kind') }}) as kind,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
