-- Every entry with its EUR value: EUR as is, BGN at the fixed 1.95583, other currencies at the
-- ECB reference rate in force on the booking day (half-up to the cent), with that rate, its day,
-- and a flag where it is the seed's last rate used after the seed's end.
with transactions as (
    select * from {{ ref('stg_fibank__transactions') }}
),

rates as (
    select currency, calendar_day, rate_date, units_per_eur, is_last_known
    from {{ ref('int_ecb_rates_daily') }}
)

select
    t.*,
    {{ amount_in_eur('t.amount', 't.currency', 'r.units_per_eur') }} as amount_eur,
    {{ amount_in_eur('t.signed_amount', 't.currency', 'r.units_per_eur') }} as signed_amount_eur,
    {{ amount_in_eur('t.balance_after', 't.currency', 'r.units_per_eur') }} as balance_after_eur,
    {{ units_per_eur('t.currency', 'r.units_per_eur') }} as units_per_eur,
    r.rate_date as eur_rate_date,
    coalesce(r.is_last_known, false) as eur_rate_is_last_known
from transactions as t
left join rates as r
    on t.currency = r.currency and t.booking_date = r.calendar_day
