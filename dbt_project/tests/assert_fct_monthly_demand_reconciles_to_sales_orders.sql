-- Densifying adds zeros only: per sku × location, fct_monthly_demand sums to the
-- non-cancelled sales order lines of stg_erp__sales_orders. Returns the series that differ.

{{ config(meta={'dagster': {'ref': {'name': 'fct_monthly_demand'}}}) }}
-- In Dagster: an asset check on fct_monthly_demand (it also reads stg_erp__sales_orders).

with

demand as (

    select
        sku,
        location_id,
        sum(order_qty) as order_qty,
        sum(order_lines) as order_lines

    from {{ ref('fct_monthly_demand') }}
    group by sku, location_id

),

sales_orders as (

    select
        sku,
        location_id,
        sum(quantity) as order_qty,
        count(*) as order_lines

    from {{ ref('stg_erp__sales_orders') }}
    where status is null or status <> 'cancelled'
    group by sku, location_id

),

compared as (

    select
        coalesce(demand.sku, sales_orders.sku) as sku,
        coalesce(demand.location_id, sales_orders.location_id) as location_id,
        demand.order_qty as demand_qty,
        sales_orders.order_qty as sales_order_qty,
        demand.order_lines as demand_lines,
        sales_orders.order_lines as sales_order_lines

    from demand
    full outer join sales_orders
        on sales_orders.sku = demand.sku
        and sales_orders.location_id = demand.location_id

)

select * from compared
where demand_qty is null
    or sales_order_qty is null
    or abs(demand_qty - sales_order_qty) > 1e-6 * greatest(1, abs(sales_order_qty))
    or demand_lines <> sales_order_lines
