-- Every account with its owner and what its entries say: first and last booking, latest balance.
with accounts as (
    select * from {{ ref('stg_fibank__accounts') }}
),

customers as (
    select * from {{ ref('stg_fibank__customers') }}
),

entries as (
    select
        iban,
        booking_date,
        balance_after,
        currency,
        row_number() over (partition by iban order by booked_at_utc desc, entry_id desc) as recency
    from {{ ref('stg_fibank__transactions') }}
),

activity as (
    select
        iban,
        min(booking_date) as first_booking_date,
        max(booking_date) as last_booking_date,
        count(*) as entry_count
    from entries
    group by iban
),

latest as (
    select iban, balance_after, currency
    from entries
    where recency = 1
)

select
    a.iban,
    a.customer_id,
    c.customer_name,
    a.currency,
    act.first_booking_date,
    act.last_booking_date,
    coalesce(act.entry_count, 0) as entry_count,
    -- The balance after the last loaded entry, in the account's currency now (a BGN balance from
    -- before 2026-01-01 of a converted account is shown converted, as the bank converted it).
    case
        when l.currency = 'BGN' and a.currency = 'EUR' then {{ bgn_to_eur('l.balance_after') }}
        else l.balance_after
    end as latest_balance
from accounts as a
left join customers as c
    on a.customer_id = c.customer_id
left join activity as act
    on a.iban = act.iban
left join latest as l
    on a.iban = l.iban
