-- One row per booked entry, typed: money as decimal(18, 2), dates as dates, the booking instant in
-- UTC, its key and its month. Nothing is joined here: the EUR values are added by
-- int_transactions_converted_to_eur.
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
)

select
    iban || ':' || cast(entry_id as varchar) as transaction_key,
    *,
    {{ month_of('booking_date') }} as booking_month
from typed
