-- The end-of-day balance of every account for every day from the first day the tap read (its
-- served_from, the first day of its first statement window, else its first loaded entry) to the
-- last day read: the balance after the day's last entry, carried forward over days without
-- entries, and before the first loaded entry the bank's opening balance of the first window (so
-- an account without entries, a term deposit, has its balance too, and an account the bank serves
-- only recent history of starts at the balance it carried in). On and after 2026-01-01 a BGN
-- balance carried into the euro is shown converted at 1.95583, as the bank converted it; in EUR
-- other currencies are at the ECB rate in force that day.
with entries as (
    select iban, booking_date, booked_at_utc, entry_id, direction, amount, balance_after, currency
    from {{ ref('fct_transactions') }}
),

accounts as (
    select iban, customer_id, profile, served_from, covered_to
    from {{ ref('dim_accounts') }}
),

day_totals as (
    select
        iban,
        booking_date,
        cast(count(*) as bigint) as entry_count,
        {{ to_money("sum(case when direction = 'debit' then amount else 0 end)") }} as debit_total,
        {{ to_money("sum(case when direction = 'credit' then amount else 0 end)") }} as credit_total
    from entries
    group by iban, booking_date
),

last_of_day as (
    select iban, booking_date, balance_after, currency
    from (
        select
            iban,
            booking_date,
            balance_after,
            currency,
            row_number() over (
                partition by iban, booking_date order by booked_at_utc desc, entry_id desc
            ) as position_from_end
        from entries
    ) as ranked
    where position_from_end = 1
),

opening as (
    select iban, opening_balance, currency
    from (
        select
            iban,
            opening_balance,
            currency,
            row_number() over (partition by iban order by date_from, date_to) as position
        from {{ ref('fct_statement_windows') }}
    ) as ranked
    where position = 1
),

bounds as (
    select
        a.iban,
        a.customer_id,
        a.profile,
        coalesce(least(a.served_from, min(e.booking_date)), a.served_from, min(e.booking_date)) as first_day
    from accounts as a
    left join entries as e
        on a.iban = e.iban
    group by a.iban, a.customer_id, a.profile, a.served_from
),

span as (
    select
        min(first_day) as first_day,
        (select max(d) from (
            select max(booking_date) as d from entries
            union all
            select max(covered_to) as d from accounts
        ) as ends) as last_day
    from bounds
),

calendar as (
    select d.calendar_day
    from {{ ref('int_calendar_days') }} as d
    inner join span as s
        on d.calendar_day between s.first_day and s.last_day
),

carried as (
    select
        b.iban,
        b.customer_id,
        b.profile,
        cal.calendar_day,
        max(l.booking_date) over (
            partition by b.iban order by cal.calendar_day rows between unbounded preceding and current row
        ) as balance_day
    from bounds as b
    inner join calendar as cal
        on cal.calendar_day >= b.first_day
    left join last_of_day as l
        on b.iban = l.iban and cal.calendar_day = l.booking_date
),

raw_balances as (
    select
        c.iban,
        c.customer_id,
        c.profile,
        c.calendar_day as balance_date,
        c.balance_day as last_entry_date,
        coalesce(l.currency, o.currency) as held_currency,
        case when l.iban is null then o.opening_balance else l.balance_after end as held_balance
    from carried as c
    left join last_of_day as l
        on c.iban = l.iban and c.balance_day = l.booking_date
    left join opening as o
        on c.iban = o.iban
),

balances as (
    select
        b.*,
        case
            when b.held_currency = 'BGN' and b.balance_date >= cast('{{ var("euro_changeover_date") }}' as date) then 'EUR'
            else b.held_currency
        end as currency,
        case
            when b.held_currency = 'BGN' and b.balance_date >= cast('{{ var("euro_changeover_date") }}' as date)
                then {{ bgn_to_eur('b.held_balance') }}
            else b.held_balance
        end as end_of_day_balance
    from raw_balances as b
    where b.held_balance is not null
)

select
    b.iban,
    b.customer_id,
    b.profile,
    b.balance_date,
    b.currency,
    b.end_of_day_balance,
    {{ amount_in_eur('b.end_of_day_balance', 'b.currency', 'r.units_per_eur') }} as end_of_day_balance_eur,
    {{ units_per_eur('b.currency', 'r.units_per_eur') }} as units_per_eur,
    coalesce(r.is_last_known, false) as eur_rate_is_last_known,
    b.last_entry_date,
    coalesce(t.entry_count, 0) as entry_count,
    coalesce(t.debit_total, 0) as debit_total,
    coalesce(t.credit_total, 0) as credit_total
from balances as b
left join day_totals as t
    on b.iban = t.iban and b.balance_date = t.booking_date
left join {{ ref('int_ecb_rates_daily') }} as r
    on b.currency = r.currency and b.balance_date = r.calendar_day
