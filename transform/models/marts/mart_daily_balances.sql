-- The end-of-day balance of every account for every day from the first day the tap read (its
-- served_from, the first day of its first statement window, else its first loaded entry) to the
-- last day read: the balance after the day's last entry, carried forward over days without
-- entries, and before the first loaded entry the bank's opening balance of the first window (so
-- an account without entries, a term deposit, has its balance too, and an account the bank serves
-- only recent history of starts at the balance it carried in). On and after 2026-01-01 a BGN
-- balance carried into the euro is shown converted at 1.95583, as the bank converted it; in EUR
-- other currencies are at the ECB rate in force that day.
--
-- Incremental (delete+insert on iban and balance_date). Per account, a build computes again the
-- days from the first day read by a run newer than the latest run the table has seen for that
-- account (latest_run_at_utc; a build follows its loads, as the jobs run them), the days after
-- the last one it holds (the calendar grows for every account), the days from the first whose
-- entries changed (an entry booked again on another day), and the days valued at
-- a last known ECB rate or none; all days of an account it has not seen or whose owner or profile
-- changed. The balance it carries into those days comes from the entries before them. A past rate
-- of the seed changed, or a raw table edited by hand (no run), needs `dbt build --full-refresh`.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['iban', 'balance_date'],
    on_schema_change='fail',
) }}

with all_entries as (
    select iban, booking_date, booked_at_utc, entry_id, direction, amount, balance_after, currency
    from {{ ref('fct_transactions') }}
),

accounts as (
    select iban, customer_id, profile, served_from, covered_to
    from {{ ref('dim_accounts') }}
),

runs as (
    select iban, max(run_started_at_utc) as latest_run_at_utc
    from {{ ref('stg_fibank__statements') }}
    group by iban
),

-- Per account and day, its entries' count and totals (a day is computed again with all its entries).
day_totals as (
    select
        iban,
        booking_date,
        cast(count(*) as bigint) as entry_count,
        {{ to_money("sum(case when direction = 'debit' then amount else 0 end)") }} as debit_total,
        {{ to_money("sum(case when direction = 'credit' then amount else 0 end)") }} as credit_total
    from all_entries
    group by iban, booking_date
),

{% if is_incremental() %}
seen as (
    select
        t.iban,
        max(t.latest_run_at_utc) as latest_run_at_utc,
        max(t.balance_date) as last_day,
        min(case
            when t.eur_rate_is_last_known or t.end_of_day_balance_eur is null then t.balance_date
        end) as first_last_known_day,
        max(case
            when t.customer_id is distinct from a.customer_id or t.profile is distinct from a.profile then 1
            else 0
        end) as owner_changed
    from {{ this }} as t
    left join accounts as a
        on t.iban = a.iban
    group by t.iban
),

read_again as (
    {{ first_day_read_since('seen') }}
),

-- Per account, the first day whose entries no longer add up to what the table counted for it (an
-- entry booked again on another day, which the days read need not cover): computed again from it.
entries_changed as (
    select coalesce(held.iban, d.iban) as iban, min(coalesce(held.balance_date, d.booking_date)) as from_day
    from (
        select iban, balance_date, entry_count, debit_total, credit_total from {{ this }} where entry_count > 0
    ) as held
    full outer join day_totals as d
        on held.iban = d.iban and held.balance_date = d.booking_date
    where held.iban is null
        or d.iban is null
        or held.entry_count <> d.entry_count
        or held.debit_total <> d.debit_total
        or held.credit_total <> d.credit_total
    group by coalesce(held.iban, d.iban)
),

-- Per account seen before (and unchanged), the first day to compute again; the others from their first day.
rebuild as (
    select
        seen.iban,
        {{ dbt.dateadd('day', 1, 'seen.last_day') }} as after_last,
        ra.from_day,
        seen.first_last_known_day,
        ec.from_day as first_changed_day
    from seen
    left join read_again as ra
        on seen.iban = ra.iban
    left join entries_changed as ec
        on seen.iban = ec.iban
    where seen.owner_changed = 0 and seen.latest_run_at_utc is not null
),

rebuild_from as (
    select
        iban,
        cast(least(
            after_last,
            coalesce(from_day, after_last),
            coalesce(first_last_known_day, after_last),
            coalesce(first_changed_day, after_last)
        ) as date) as from_day
    from rebuild
),

-- The last day with entries before the days computed again: its balance is carried into them.
carried_in as (
    select e.iban, max(e.booking_date) as booking_date
    from all_entries as e
    inner join rebuild_from as r
        on e.iban = r.iban and e.booking_date < r.from_day
    group by e.iban
),

entries as (
    select e.*
    from all_entries as e
    left join rebuild_from as r
        on e.iban = r.iban
    left join carried_in as c
        on e.iban = c.iban
    where r.iban is null or e.booking_date >= coalesce(c.booking_date, r.from_day)
),
{% else %}
entries as (
    select * from all_entries
),
{% endif %}

entry_bounds as (
    select iban, min(booking_date) as first_booking_date, max(booking_date) as last_booking_date
    from all_entries
    group by iban
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
        coalesce(
            least(a.served_from, e.first_booking_date), a.served_from, e.first_booking_date
        ) as first_day
    from accounts as a
    left join entry_bounds as e
        on a.iban = e.iban
),

span as (
    select
        min(first_day) as first_day,
        (select max(d) from (
            select max(last_booking_date) as d from entry_bounds
            union all
            select max(covered_to) as d from accounts
        ) as ends) as last_day
    from bounds
),

-- Per account, the first day to compute (and its first day to carry a balance from).
starts as (
    select
        b.iban,
        b.customer_id,
        b.profile,
        b.first_day,
        {% if is_incremental() -%}
        coalesce(r.from_day, b.first_day) as keep_from,
        coalesce(c.booking_date, r.from_day, b.first_day) as compute_from
        {%- else -%}
        b.first_day as keep_from,
        b.first_day as compute_from
        {%- endif %}
    from bounds as b
    {% if is_incremental() -%}
    left join rebuild_from as r
        on b.iban = r.iban
    left join carried_in as c
        on b.iban = c.iban
    {%- endif %}
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
        b.keep_from,
        cal.calendar_day,
        max(l.booking_date) over (
            partition by b.iban order by cal.calendar_day rows between unbounded preceding and current row
        ) as balance_day
    from starts as b
    inner join calendar as cal
        on cal.calendar_day >= greatest(b.first_day, b.compute_from)
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
    where c.calendar_day >= c.keep_from
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
    {{ to_money("b.end_of_day_balance") }} as end_of_day_balance,
    {{ amount_in_eur('b.end_of_day_balance', 'b.currency', 'r.units_per_eur') }} as end_of_day_balance_eur,
    {{ units_per_eur('b.currency', 'r.units_per_eur') }} as units_per_eur,
    coalesce(r.is_last_known, false) as eur_rate_is_last_known,
    b.last_entry_date,
    coalesce(t.entry_count, 0) as entry_count,
    {{ to_money("coalesce(t.debit_total, 0)") }} as debit_total,
    {{ to_money("coalesce(t.credit_total, 0)") }} as credit_total,
    runs.latest_run_at_utc
from balances as b
left join day_totals as t
    on b.iban = t.iban and b.balance_date = t.booking_date
left join {{ ref('int_ecb_rates_daily') }} as r
    on b.currency = r.currency and b.balance_date = r.calendar_day
left join runs
    on b.iban = runs.iban
