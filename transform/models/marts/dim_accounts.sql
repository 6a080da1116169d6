-- Every account the logins list, with the login that lists it, its owner and profile, what its
-- entries say (first and last booking, latest balance), what the bank says (the latest statement window's closing
-- balance, the account list's balance), when the tap last read it, and where its history in the
-- warehouse starts: served_from, the first day of its first statement window, and the opening
-- balance that window carries in (0 for an account read from its opening; not 0 when the bank
-- serves no older history, or start_date is later than the opening). Completeness is counted
-- from served_from.
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

latest_entry as (
    select iban, balance_after, currency
    from entries
    where recency = 1
),

windows as (
    select
        *,
        row_number() over (partition by iban order by date_to desc, date_from desc) as recency
    from {{ ref('fct_statement_windows') }}
    where effective_to is not null
),

first_window as (
    select iban, opening_balance, currency
    from (
        select
            iban,
            opening_balance,
            currency,
            row_number() over (
                partition by iban
                order by date_from, case when effective_to is null then 1 else 0 end, run_started_at_utc desc
            ) as position
        from {{ ref('fct_statement_windows') }}
    ) as ranked
    where position = 1
),

reads as (
    select
        iban,
        min(date_from) as served_from,
        max(effective_to) as covered_to,
        max(run_started_at_utc) as last_read_at_utc
    from {{ ref('fct_statement_windows') }}
    group by iban
),

latest_window as (
    select iban, closing_balance, currency, verification
    from windows
    where recency = 1
)

select
    a.iban,
    a.login,
    a.customer_id,
    c.customer_name,
    c.profile,
    a.currency,
    act.first_booking_date,
    act.last_booking_date,
    cast(coalesce(act.entry_count, 0) as bigint) as entry_count,
    -- Balances in the account's currency now (a BGN balance from before 2026-01-01 of a converted
    -- account is shown converted, as the bank converted it).
    {{ to_money(
        "case when le.currency = 'BGN' and a.currency = 'EUR' then "
        ~ bgn_to_eur('le.balance_after') ~ " else le.balance_after end"
    ) }} as latest_entry_balance,
    {{ to_money(
        "case when lw.currency = 'BGN' and a.currency = 'EUR' then "
        ~ bgn_to_eur('lw.closing_balance') ~ " else lw.closing_balance end"
    ) }} as latest_window_balance,
    lw.verification as latest_window_verification,
    a.bank_balance,
    r.served_from,
    {{ to_money(
        "case when fw.currency = 'BGN' and a.currency = 'EUR' then "
        ~ bgn_to_eur('fw.opening_balance') ~ " else fw.opening_balance end"
    ) }} as opening_balance_carried,
    r.covered_to,
    r.last_read_at_utc,
    {{ sofia_date('r.last_read_at_utc') }} as last_read_date
from accounts as a
left join customers as c
    on a.customer_id = c.customer_id
left join activity as act
    on a.iban = act.iban
left join latest_entry as le
    on a.iban = le.iban
left join latest_window as lw
    on a.iban = lw.iban
left join reads as r
    on a.iban = r.iban
left join first_window as fw
    on a.iban = fw.iban
