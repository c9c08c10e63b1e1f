with

source as (

    select * from {{ source('raw', 'plan_events') }}
    where {{ not_quarantined('plan/events') }}

),

renamed as (

    select
        {{ clean_text('name') }} as name,
        {{ clean_cast('start_month', 'date') }} as start_month,
        {{ clean_cast('end_month', 'date') }} as end_month,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('family') }} as family,
        {{ clean_cast('uplift_pct', 'double') }} as uplift_pct,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
