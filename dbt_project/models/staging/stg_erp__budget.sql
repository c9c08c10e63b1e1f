with

source as (

    select * from {{ source('raw', 'erp_budget') }}
    where {{ not_quarantined('erp/budget') }}

),

renamed as (

    select
        cast({{ dbt.date_trunc('month', clean_cast('month', 'date')) }} as date) as month,
        {{ clean_text('family') }} as family,
        {{ clean_cast('volume', 'double') }} as volume,
        {{ clean_cast('revenue', 'double') }} as revenue,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
