with

locations as (

    select * from {{ ref('stg_erp__locations') }}

),

final as (

    select
        location_id,
        name,
        kind

    from locations

)

select * from final
