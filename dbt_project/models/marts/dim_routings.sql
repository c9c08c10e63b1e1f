with

routings as (

    select * from {{ ref('stg_erp__routings') }}

),

final as (

    select
        sku,
        work_center_id,
        hours_per_unit

    from routings

)

select * from final
