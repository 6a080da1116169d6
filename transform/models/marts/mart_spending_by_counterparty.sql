-- What went to (and came from) each counterparty, per customer profile and currency. The
-- counterparty is the bank's contragent, else the beneficiary / ordering party, else "Fibank" for
-- fees, commissions and interest, "Cash (ATM)" for withdrawals.
select
    customer_id,
    counterparty,
    currency,
    {{ to_money("sum(case when direction = 'debit' then amount else 0 end)") }} as spent,
    {{ to_money("sum(case when direction = 'credit' then amount else 0 end)") }} as received,
    {{ to_money("sum(case when direction = 'debit' then amount_eur else 0 end)") }} as spent_eur,
    {{ to_money("sum(case when direction = 'credit' then amount_eur else 0 end)") }} as received_eur,
    sum(case when direction = 'debit' then 1 else 0 end) as debit_count,
    sum(case when direction = 'credit' then 1 else 0 end) as credit_count,
    min(booking_date) as first_booking_date,
    max(booking_date) as last_booking_date
from {{ ref('fct_transactions') }}
group by customer_id, counterparty, currency
