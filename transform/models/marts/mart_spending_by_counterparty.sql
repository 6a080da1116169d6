-- What went to (and came from) each counterparty, per customer profile and currency, also in
-- EUR. The counterparty is the bank's contragent, else the beneficiary / ordering party, else
-- "Fibank" for fees, commissions and interest, "Cash (ATM)" for withdrawals. Transfers between
-- the login's own accounts are not spending or income: they are in own_transfers_out / _in.
select
    customer_id,
    profile,
    counterparty,
    currency,
    {{ to_money("sum(case when direction = 'debit' and not is_own_account_transfer then amount else 0 end)") }} as spent,
    {{ to_money("sum(case when direction = 'credit' and not is_own_account_transfer then amount else 0 end)") }} as received,
    {{ to_money("sum(case when direction = 'debit' and not is_own_account_transfer then amount_eur else 0 end)") }} as spent_eur,
    {{ to_money("sum(case when direction = 'credit' and not is_own_account_transfer then amount_eur else 0 end)") }} as received_eur,
    {{ to_money("sum(case when direction = 'debit' and is_own_account_transfer then amount else 0 end)") }} as own_transfers_out,
    {{ to_money("sum(case when direction = 'credit' and is_own_account_transfer then amount else 0 end)") }} as own_transfers_in,
    cast(sum(case when direction = 'debit' and not is_own_account_transfer then 1 else 0 end) as bigint) as debit_count,
    cast(sum(case when direction = 'credit' and not is_own_account_transfer then 1 else 0 end) as bigint) as credit_count,
    -- Left out of spent_eur / received_eur: no rate converts them.
    cast(sum(case when amount_eur is null then 1 else 0 end) as bigint) as entries_not_in_eur,
    min(booking_date) as first_booking_date,
    max(booking_date) as last_booking_date
from {{ ref('fct_transactions') }}
group by customer_id, profile, counterparty, currency
