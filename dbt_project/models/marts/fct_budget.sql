with

budget as (

    select * from {{ ref('stg_erp__budget') }}

),

final as (

    select
        month,
        family,
        volume,
        revenue

    from budget

)

select * from final
