-- The bank's fees and commissions per account and month (net of refunds: a credit in these
-- categories reduces the total).
select
    iban,
    customer_id,
    profile,
    booking_month,
    currency,
    {{ to_money("sum(case when category = 'fee' then -signed_amount else 0 end)") }} as fee_total,
    sum(case when category = 'fee' then 1 else 0 end) as fee_count,
    {{ to_money("sum(case when category = 'commission' then -signed_amount else 0 end)") }} as commission_total,
    sum(case when category = 'commission' then 1 else 0 end) as commission_count,
    {{ to_money('sum(-signed_amount)') }} as charges_total,
    {{ to_money('sum(-signed_amount_eur)') }} as charges_total_eur
from {{ ref('fct_transactions') }}
where is_bank_charge
group by iban, customer_id, profile, booking_month, currency
