-- On a day with entries, the end-of-day balance is the balance after that day's last entry; on the
-- last loaded day every account with entries has a row.
with last_entries as (
    select iban, booking_date, balance_after, currency
    from (
        select
            iban,
            booking_date,
            balance_after,
            currency,
            row_number() over (partition by iban, booking_date order by booked_at_utc desc, entry_id desc) as n
        from {{ ref('stg_fibank__transactions') }}
    ) as ranked
    where n = 1
),

mismatched as (
    select l.iban, l.booking_date
    from last_entries as l
    left join {{ ref('mart_daily_balances') }} as d
        on l.iban = d.iban and l.booking_date = d.balance_date
    where d.iban is null
       or d.end_of_day_balance <> l.balance_after
       or d.currency <> l.currency
),

missing_last_day as (
    select a.iban, cast(null as date) as booking_date
    from (select distinct iban from {{ ref('stg_fibank__transactions') }}) as a
    where not exists (
        select 1
        from {{ ref('mart_daily_balances') }} as d
        where d.iban = a.iban
          and d.balance_date = (select max(booking_date) from {{ ref('stg_fibank__transactions') }})
    )
)

select * from mismatched
union all
select * from missing_last_day
