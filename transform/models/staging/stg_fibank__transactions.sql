-- One row per booked entry, typed: money as decimal(18, 2), dates as dates, the booking instant in
-- UTC, and the EUR value of every amount: EUR as is, BGN at the fixed 1.95583, other currencies at
-- the ECB reference rate in force on the booking day (half-up to the cent), with that rate, its
-- day, and a flag where it is the seed's last rate used after the seed's end.
with source as (
    select * from {{ source('fibank', 'transactions') }}
),

typed as (
    select
        cast(iban as varchar) as iban,
        cast(entry_id as bigint) as entry_id,
        cast(customer_id as varchar) as customer_id,
        cast(booking_date as date) as booking_date,
        {{ utc_timestamp('booked_at') }} as booked_at_utc,
        cast(value_date as date) as value_date,
        cast(direction as varchar) as direction,
        {{ to_money('amount') }} as amount,
        {{ to_money('signed_amount') }} as signed_amount,
        {{ to_money('balance_after') }} as balance_after,
        cast(currency as varchar) as currency,
        cast(reference as varchar) as reference,
        cast(counterparty_name as varchar) as counterparty_name,
        cast(counterparty_account as varchar) as counterparty_account,
        cast(ordering_or_beneficiary_party as varchar) as ordering_or_beneficiary_party,
        cast(description as varchar) as description,
        cast(transaction_type as varchar) as transaction_type,
        cast(transaction_code as varchar) as transaction_code,
        cast(is_ebank_operation as boolean) as is_ebank_operation,
        cast(is_payment as boolean) as is_payment,
        cast(load_as_new as boolean) as load_as_new,
        cast(remittance_information as varchar) as remittance_information
    from source
),

rates as (
    select * from {{ ref('stg_ecb__rates') }}
)

select
    t.iban || ':' || cast(t.entry_id as varchar) as transaction_key,
    t.*,
    {{ month_of('t.booking_date') }} as booking_month,
    {{ amount_in_eur('t.amount', 't.currency', 'r.units_per_eur') }} as amount_eur,
    {{ amount_in_eur('t.signed_amount', 't.currency', 'r.units_per_eur') }} as signed_amount_eur,
    {{ amount_in_eur('t.balance_after', 't.currency', 'r.units_per_eur') }} as balance_after_eur,
    {{ units_per_eur('t.currency', 'r.units_per_eur') }} as units_per_eur,
    r.rate_date as eur_rate_date,
    coalesce(r.next_rate_date is null and t.booking_date > r.rate_date, false) as eur_rate_is_last_known
from typed as t
left join rates as r
    on {{ rate_in_force('r', 't.currency', 't.booking_date') }}
