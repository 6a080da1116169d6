-- Every account the login lists, keyed by IBAN, with the balance the account list sends (curBal;
-- null when the bank sends no such field), and the login that lists it.
select
    {{ login_of(source('fibank', 'accounts')) }} as login,
    cast(iban as varchar) as iban,
    cast(customer_id as varchar) as customer_id,
    -- The currency now: a BGN account became EUR on 2026-01-01 with the same IBAN.
    cast(currency as varchar) as currency,
    {{ to_money(json_text('extra', 'curBal')) }} as bank_balance
from {{ source('fibank', 'accounts') }}
