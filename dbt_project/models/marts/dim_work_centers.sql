with

work_centers as (

    select * from {{ ref('stg_erp__work_centers') }}

),

final as (

    select
        work_center_id,
        name,
        location_id,
        available_hours_per_month

    from work_centers

)

select * from final
