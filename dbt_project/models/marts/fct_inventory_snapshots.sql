with

inventory as (

    select * from {{ ref('stg_stock__inventory') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

final as (

    select
        inventory.snapshot_date,
        inventory.sku,
        inventory.location_id,
        inventory.on_hand_qty,
        inventory.on_hand_qty * items.unit_cost as inventory_value

    from inventory
    left join items
        on items.sku = inventory.sku

)

select * from final
