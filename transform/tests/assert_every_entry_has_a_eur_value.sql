-- Every entry has an EUR value: EUR, BGN (fixed rate) or a currency the ECB seed has a rate for on
-- or before its booking day. Failing rows name the account (masked), the currency and the first
-- and last day without one: add the currency to ECB_CURRENCIES and run `make install WITH=ecb-rates`.
select
    {{ mask_iban('iban') }} as account,
    currency,
    min(booking_date) as first_day,
    max(booking_date) as last_day,
    count(*) as entries
from {{ ref('int_transactions_converted_to_eur') }}
where amount_eur is null
group by iban, currency
