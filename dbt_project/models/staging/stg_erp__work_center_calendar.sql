with

source as (

    select * from {{ source('raw', 'erp_work_center_calendar') }}
    where {{ not_quarantined('erp/work_center_calendar') }}

),

renamed as (

    select
        {{ clean_text('work_center_id') }} as work_center_id,
        date_trunc('month', {{ clean_cast('month', 'date') }})::date as month,
        {{ clean_cast('available_hours', 'double') }} as available_hours,
        {{ clean_text('reason') }} as reason,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
