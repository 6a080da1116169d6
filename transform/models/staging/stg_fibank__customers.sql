select
    cast(customer_id as varchar) as customer_id,
    cast(customer_name as varchar) as customer_name
from {{ source('fibank', 'customers') }}
