with

sales_orders as (

    select * from {{ ref('stg_erp__sales_orders') }}

),

items as (

    select * from {{ ref('dim_items') }}

),

demand_lines as (

    -- Demand is every order line not cancelled; a line without a status counts.
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month,
        sku,
        location_id,
        quantity,
        net_amount

    from sales_orders
    where status is null or status <> 'cancelled'

),

monthly as (

    select
        month,
        sku,
        location_id,
        sum(quantity) as order_qty,
        sum(net_amount) as net_amount,
        count(*) as order_lines

    from demand_lines
    group by month, sku, location_id

),

series as (

    -- A series is a sku × location that ever sold; it starts at its first order month.
    select
        sku,
        location_id,
        min(month) as first_month

    from monthly
    group by sku, location_id

),

last_month as (

    -- Every series runs to the last month of the extract: the last month any order
    -- (cancelled or not) was booked.
    select cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date) as last_month
    from sales_orders

),

calendar as (

    select cast(unnest(generate_series(
        (select min(first_month) from series),
        last_month.last_month,
        interval 1 month
    )) as date) as month

    from last_month

),

spine as (

    select
        calendar.month,
        series.sku,
        series.location_id

    from series
    inner join calendar
        on calendar.month >= series.first_month

),

final as (

    select
        spine.month,
        spine.sku,
        spine.location_id,
        items.family,
        cast(coalesce(monthly.order_qty, 0) as double) as order_qty,
        cast(coalesce(monthly.net_amount, 0) as double) as net_amount,
        cast(coalesce(monthly.order_lines, 0) as bigint) as order_lines

    from spine
    left join monthly
        on monthly.month = spine.month
        and monthly.sku = spine.sku
        and monthly.location_id = spine.location_id
    left join items
        on items.sku = spine.sku

)

select * from final
