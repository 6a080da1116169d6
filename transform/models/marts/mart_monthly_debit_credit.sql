-- Debit against credit per account and month, in the account's currency of that month (a converted
-- account has BGN months up to 2025-12 and EUR months from 2026-01).
select
    iban,
    customer_id,
    profile,
    booking_month,
    currency,
    {{ to_money("sum(case when direction = 'debit' then amount else 0 end)") }} as debit_total,
    {{ to_money("sum(case when direction = 'credit' then amount else 0 end)") }} as credit_total,
    {{ to_money('sum(signed_amount)') }} as net_total,
    sum(case when direction = 'debit' then 1 else 0 end) as debit_count,
    sum(case when direction = 'credit' then 1 else 0 end) as credit_count,
    count(*) as entry_count
from {{ ref('fct_transactions') }}
group by iban, customer_id, profile, booking_month, currency
