with

deals as (

    select * from {{ ref('stg_crm__deals') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

final as (

    select
        deals.deal_id,
        deals.account_id,
        deals.sku,
        items.family,
        deals.quantity,
        deals.amount,
        deals.stage,
        deals.probability,
        deals.expected_close_date,
        deals.status,
        deals.updated_at

    from deals
    left join items
        on items.sku = deals.sku

)

select * from final
