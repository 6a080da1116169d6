-- Within an account, in booking order, every entry's balance_after is the previous entry's plus its
-- signed_amount. Across the euro changeover (a BGN entry followed by an EUR entry) the previous
-- balance is converted at 1.95583, half-up to the cent, as the bank converted it. The first loaded
-- entry of an account has no previous one. Failing rows: a gap in the loaded history, a balance the
-- bank rewrote (a back-dated posting older than lookback_days), or a changed amount.
with ordered as (
    select
        iban,
        entry_id,
        booking_date,
        currency,
        signed_amount,
        balance_after,
        lag(balance_after) over (partition by iban order by booked_at_utc, entry_id) as previous_balance,
        lag(currency) over (partition by iban order by booked_at_utc, entry_id) as previous_currency
    from {{ ref('stg_fibank__transactions') }}
),

compared as (
    select
        *,
        case
            when previous_currency = 'BGN' and currency = 'EUR' then {{ bgn_to_eur('previous_balance') }}
            else previous_balance
        end as opening_balance
    from ordered
    where previous_balance is not null
)

select
    {{ mask_iban('iban') }} as account,
    entry_id,
    booking_date,
    currency,
    opening_balance,
    signed_amount,
    balance_after
from compared
where opening_balance + signed_amount <> balance_after
   or (previous_currency <> currency and not (previous_currency = 'BGN' and currency = 'EUR'))
