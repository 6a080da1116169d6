-- The end-of-day balance of every account for every day from its first loaded entry to the last
-- booking day loaded (days without entries carry the balance forward). On and after 2026-01-01 a
-- BGN balance carried into the euro is shown converted at 1.95583, as the bank converted it.
with recursive

entries as (
    select
        iban,
        customer_id,
        booking_date,
        booked_at_utc,
        entry_id,
        direction,
        amount,
        balance_after,
        currency
    from {{ ref('fct_transactions') }}
),

day_totals as (
    select
        iban,
        booking_date,
        count(*) as entry_count,
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

bounds as (
    select iban, customer_id, min(booking_date) as first_day
    from entries
    group by iban, customer_id
),

span as (
    select min(booking_date) as first_day, max(booking_date) as last_day
    from entries
),

calendar (calendar_day) as (
    select first_day from span where first_day is not null
    union all
    select cast(calendar_day + 1 as date)
    from calendar
    where calendar_day < (select last_day from span)
),

account_days as (
    select b.iban, b.customer_id, cal.calendar_day
    from bounds as b
    inner join calendar as cal
        on cal.calendar_day >= b.first_day
),

carried as (
    select
        d.iban,
        d.customer_id,
        d.calendar_day,
        max(l.booking_date) over (
            partition by d.iban order by d.calendar_day rows between unbounded preceding and current row
        ) as balance_day
    from account_days as d
    left join last_of_day as l
        on d.iban = l.iban and d.calendar_day = l.booking_date
),

balances as (
    select
        c.iban,
        c.customer_id,
        c.calendar_day as balance_date,
        case
            when l.currency = 'BGN' and c.calendar_day >= cast('{{ var("euro_changeover_date") }}' as date) then 'EUR'
            else l.currency
        end as currency,
        case
            when l.currency = 'BGN' and c.calendar_day >= cast('{{ var("euro_changeover_date") }}' as date)
                then {{ bgn_to_eur('l.balance_after') }}
            else l.balance_after
        end as end_of_day_balance,
        c.balance_day as last_entry_date,
        coalesce(t.entry_count, 0) as entry_count,
        coalesce(t.debit_total, 0) as debit_total,
        coalesce(t.credit_total, 0) as credit_total
    from carried as c
    inner join last_of_day as l
        on c.iban = l.iban and c.balance_day = l.booking_date
    left join day_totals as t
        on c.iban = t.iban and c.calendar_day = t.booking_date
)

select
    iban,
    customer_id,
    balance_date,
    currency,
    end_of_day_balance,
    {{ amount_in_eur('end_of_day_balance', 'currency') }} as end_of_day_balance_eur,
    last_entry_date,
    entry_count,
    debit_total,
    credit_total
from balances
