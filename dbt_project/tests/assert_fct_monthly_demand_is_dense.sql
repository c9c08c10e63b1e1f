-- fct_monthly_demand is dense: each sku × location series has one row per month, without
-- gaps, from its first non-cancelled order month to the last order month of the extract.
-- Returns the series that break it.

{{ config(meta={'dagster': {'ref': {'name': 'fct_monthly_demand'}}}) }}
-- In Dagster: an asset check on fct_monthly_demand (it also reads stg_erp__sales_orders).

with

demand as (

    select * from {{ ref('fct_monthly_demand') }}

),

sales_orders as (

    select * from {{ ref('stg_erp__sales_orders') }}

),

extract_end as (

    select cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date) as last_month
    from sales_orders

),

first_orders as (

    select
        sku,
        location_id,
        cast({{ dbt.date_trunc('month', 'min(order_date)') }} as date) as first_month

    from sales_orders
    where status is null or status <> 'cancelled'
    group by sku, location_id

),

series as (

    select
        sku,
        location_id,
        min(month) as first_month,
        max(month) as last_month,
        count(*) as months,
        count(distinct month) as distinct_months

    from demand
    group by sku, location_id

),

checked as (

    select
        coalesce(series.sku, first_orders.sku) as sku,
        coalesce(series.location_id, first_orders.location_id) as location_id,
        series.first_month,
        first_orders.first_month as expected_first_month,
        series.last_month,
        extract_end.last_month as expected_last_month,
        series.months,
        series.distinct_months,
        {{ dbt.datediff('series.first_month', 'series.last_month', 'month') }} + 1
            as expected_months

    from series
    full outer join first_orders
        on first_orders.sku = series.sku
        and first_orders.location_id = series.location_id
    cross join extract_end

)

select * from checked
where first_month is distinct from expected_first_month
    or last_month is distinct from expected_last_month
    or months <> expected_months
    or distinct_months <> expected_months
