with

source as (

    select * from {{ source('raw', 'plan_scenarios') }}
    where {{ not_quarantined('plan/scenarios') }}

),

renamed as (

    select
        {{ clean_text('scenario') }} as scenario,
        {{ clean_text('description') }} as description,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('lever') }}) as lever,
        {{ clean_text('family') }} as family,
        {{ clean_text('sku') }} as sku,
        {{ clean_text('work_center_id') }} as work_center_id,
        {{ clean_text('supplier_id') }} as supplier_id,
        {{ clean_cast('start_month', 'date') }} as start_month,
        {{ clean_cast('end_month', 'date') }} as end_month,
        {{ clean_cast('value', 'double') }} as value,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
