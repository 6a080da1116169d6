-- signed_amount is +amount for a credit and -amount for a debit, in the entry's currency and in EUR.
-- Failing rows name the account (masked) and the entry: the loader or an edit stored a sign the
-- direction contradicts.
select
    {{ mask_iban('iban') }} as account,
    entry_id,
    booking_date,
    direction,
    amount,
    signed_amount
from {{ ref('int_transactions_converted_to_eur') }}
where signed_amount <> case when direction = 'credit' then amount else -amount end
   or signed_amount_eur <> case when direction = 'credit' then amount_eur else -amount_eur end
