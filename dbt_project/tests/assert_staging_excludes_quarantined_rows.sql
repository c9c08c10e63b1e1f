-- No staging model keeps a raw row that raw.quarantine lists for its entity.
-- Returns the offending (model, row) pairs.

{%- set staging = {
    'stg_erp__items': 'erp/items',
    'stg_erp__locations': 'erp/locations',
    'stg_erp__sales_orders': 'erp/sales_orders',
    'stg_erp__work_centers': 'erp/work_centers',
    'stg_erp__routings': 'erp/routings',
    'stg_erp__purchase_orders': 'erp/purchase_orders',
    'stg_erp__production_orders': 'erp/production_orders',
    'stg_erp__budget': 'erp/budget',
    'stg_crm__accounts': 'crm/accounts',
    'stg_crm__deals': 'crm/deals',
    'stg_stock__inventory': 'stock/inventory',
    'stg_plan__overrides': 'plan/overrides',
    'stg_plan__events': 'plan/events',
    'stg_plan__scenarios': 'plan/scenarios',
    'stg_plan__decisions': 'plan/decisions',
} %}

with

staged_rows as (

    {% for model, entity in staging.items() %}
    select '{{ model }}' as model_name, '{{ entity }}' as entity, source_row_number
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

quarantine as (

    select * from {{ source('raw', 'quarantine') }}

)

select distinct staged_rows.*
from staged_rows
inner join quarantine
    on quarantine.entity = staged_rows.entity
    and quarantine.row_number = staged_rows.source_row_number
