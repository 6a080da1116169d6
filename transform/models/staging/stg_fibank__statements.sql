-- One row per statement window the tap read (per currency part), typed: the bank's own totals
-- (opening and closing balance, debit and credit turnover) next to the entries' totals, and the
-- window's verification: balanced, unbalanced, or unverifiable (the bank's summary rows were
-- missing or unreadable, so the window covers its days but proves no balance). A tap that does
-- not send `verification` yet has it derived from is_balanced. Rows loaded by a tap
-- that called `run_started_at` `fetched_at` keep their value.
with source as (
    select * from {{ source('fibank', 'statements') }}
)

select
    {{ login_of(source('fibank', 'statements')) }} as login,
    cast(iban as varchar) as iban,
    cast(customer_id as varchar) as customer_id,
    cast(date_from as date) as date_from,
    cast(date_to as date) as date_to,
    cast(currency as varchar) as currency,
    {{ to_money('opening_balance') }} as opening_balance,
    {{ to_money('closing_balance') }} as closing_balance,
    {{ to_money('debit_turnover') }} as debit_turnover,
    {{ to_money('credit_turnover') }} as credit_turnover,
    cast(entry_count as bigint) as entry_count,
    {{ to_money('entries_debit_total') }} as entries_debit_total,
    {{ to_money('entries_credit_total') }} as entries_credit_total,
    cast(is_balanced as boolean) as is_balanced,
    coalesce(
        cast({{ column_or(source('fibank', 'statements'), 'verification', 'null') }} as varchar),
        case when cast(is_balanced as boolean) then 'balanced' else 'unbalanced' end
    ) as verification,
    {{ utc_timestamp(
        'coalesce(' ~ column_or(source('fibank', 'statements'), 'run_started_at', 'null') ~ ', '
        ~ column_or(source('fibank', 'statements'), 'fetched_at', 'null') ~ ')'
    ) }} as run_started_at_utc
from source
