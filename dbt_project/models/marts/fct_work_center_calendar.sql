-- Months where a work centre has other hours than its normal month. Capacity planning takes
-- available hours from here where a row exists, else from dim_work_centers.

with

calendar as (

    select * from {{ ref('stg_erp__work_center_calendar') }}

),

final as (

    select
        work_center_id,
        month,
        available_hours,
        reason

    from calendar

)

select * from final
