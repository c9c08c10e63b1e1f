with

source as (

    select * from {{ source('raw', 'plan_decisions') }}
    where {{ not_quarantined('plan/decisions') }}

),

renamed as (

    select
        {{ clean_cast('cycle_month', 'date') }} as cycle_month,
        {{ clean_text('decision_id') }} as decision_id,
        {{ clean_text('title') }} as title,
        {{ clean_text('adopted_scenario') }} as adopted_scenario,
        {{ clean_text('owner') }} as owner,
        {{ clean_cast('due_month', 'date') }} as due_month,
        -- validation accepts the allowed values in any case: keep one
        lower({{ clean_text('status') }}) as status,
        {{ clean_text('rationale') }} as rationale,

        -- load metadata: where the row came from
        cast(_source_file as varchar) as source_file,
        cast(_row_number as bigint) as source_row_number

    from source

)

select * from renamed
