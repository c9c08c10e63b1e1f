with

source as (

    select * from {{ source('raw', 'erp_work_centers') }}
    where {{ not_quarantined('erp/work_centers') }}

),

renamed as (

    select
        {{ clean_text('work_center_id') }} as work_center_id,
        {{ clean_text('name') }} as name,
        {{ clean_text('location_id') }} as location_id,
        {{ clean_cast('available_hours_per_month', 'double') }} as available_hours_per_month,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
