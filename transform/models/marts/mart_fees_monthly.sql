-- The bank's fees and commissions per account and month (net of refunds: a credit in these
-- categories reduces the total). An entry no rate converts is left out of charges_total_eur and
-- counted in entries_not_in_eur.
select
    iban,
    customer_id,
    profile,
    booking_month,
    currency,
    {{ to_money("sum(case when category = 'fee' then -signed_amount else 0 end)") }} as fee_total,
    cast(sum(case when category = 'fee' then 1 else 0 end) as bigint) as fee_count,
    {{ to_money("sum(case when category = 'commission' then -signed_amount else 0 end)") }} as commission_total,
    cast(sum(case when category = 'commission' then 1 else 0 end) as bigint) as commission_count,
    {{ to_money('sum(-signed_amount)') }} as charges_total,
    {{ to_money('sum(-signed_amount_eur)') }} as charges_total_eur,
    cast(sum(case when amount_eur is null then 1 else 0 end) as bigint) as entries_not_in_eur
from {{ ref('fct_transactions') }}
where is_bank_charge
group by iban, customer_id, profile, booking_month, currency
