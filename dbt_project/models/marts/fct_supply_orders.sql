with

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

production_orders as (

    select * from {{ ref('stg_erp__production_orders') }}

),

purchase_lines as (

    select
        'purchase' as supply_type,
        po_id as order_id,
        line_no,
        supplier_id,
        sku,
        location_id,
        quantity,
        order_date,
        due_date,
        received_date,
        status

    from purchase_orders

),

production_lines as (

    -- A production order is one line; its order date is optional, it has no completion date.
    select
        'production' as supply_type,
        mo_id as order_id,
        cast(1 as bigint) as line_no,
        cast(null as varchar) as supplier_id,
        sku,
        location_id,
        quantity,
        order_date,
        due_date,
        cast(null as date) as received_date,
        status

    from production_orders

),

final as (

    select * from purchase_lines
    union all
    select * from production_lines

)

select * from final
