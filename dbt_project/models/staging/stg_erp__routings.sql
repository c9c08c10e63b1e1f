with

source as (

    select * from {{ source('raw', 'erp_routings') }}
    where {{ not_quarantined('erp/routings') }}

),

renamed as (

    select
        {{ clean_text('sku') }} as sku,
        {{ clean_text('work_center_id') }} as work_center_id,
        {{ clean_cast('hours_per_unit', 'double') }} as hours_per_unit,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
