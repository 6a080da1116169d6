-- The customer profiles of the login, and whether each is the person's own (customerType FL,
-- "физическо лице") or a business's (UL, "юридическо лице"). A type the bank has not sent so far
-- is 'unknown', and a test says so: add it to the case below.
select
    {{ login_of(source('fibank', 'customers')) }} as login,
    cast(customer_id as varchar) as customer_id,
    cast(customer_name as varchar) as customer_name,
    case upper({{ json_text('extra', 'customerType') }})
        when 'FL' then 'person'
        when 'UL' then 'business'
        else 'unknown'
    end as profile
from {{ source('fibank', 'customers') }}
