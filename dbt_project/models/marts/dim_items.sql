with

items as (

    select * from {{ ref('stg_erp__items') }}

),

final as (

    select
        sku,
        description,
        family,
        uom,
        unit_cost,
        unit_price,
        make_or_buy,
        lead_time_days,
        min_order_qty,
        order_multiple

    from items

)

select * from final
