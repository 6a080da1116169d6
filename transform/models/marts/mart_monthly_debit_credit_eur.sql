-- Debit against credit per month over all accounts, in EUR: EUR entries as they are, BGN entries at
-- the fixed 1.95583. Entries in other currencies (no fixed rate) are counted, not converted.
select
    booking_month,
    {{ to_money("sum(case when direction = 'debit' then amount_eur else 0 end)") }} as debit_eur,
    {{ to_money("sum(case when direction = 'credit' then amount_eur else 0 end)") }} as credit_eur,
    {{ to_money('sum(coalesce(signed_amount_eur, 0))') }} as net_eur,
    sum(case when amount_eur is not null and direction = 'debit' then 1 else 0 end) as debit_count,
    sum(case when amount_eur is not null and direction = 'credit' then 1 else 0 end) as credit_count,
    count(distinct case when amount_eur is not null then iban end) as account_count,
    sum(case when amount_eur is null then 1 else 0 end) as entries_not_in_eur
from {{ ref('fct_transactions') }}
group by booking_month
