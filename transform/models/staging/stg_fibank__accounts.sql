select
    cast(iban as varchar) as iban,
    cast(customer_id as varchar) as customer_id,
    -- The currency now: a BGN account became EUR on 2026-01-01 with the same IBAN.
    cast(currency as varchar) as currency
from {{ source('fibank', 'accounts') }}
