-- Per account and month: opening + credits - debits = closing, from the loaded entries, next to
-- the bank's own closing balance where one of its statement windows ends on the month's last
-- covered day. Both differences are zero when all is well; anything else is a missing, extra or
-- changed entry (the test assert_monthly_reconciliation_is_zero names the account and month).
with months as (
    select * from {{ ref('mart_monthly_balances') }}
),

flows as (
    select
        iban,
        booking_month,
        {{ to_money("sum(case when direction = 'credit' then amount else 0 end)") }} as credits,
        {{ to_money("sum(case when direction = 'debit' then amount else 0 end)") }} as debits,
        count(*) as entry_count
    from {{ ref('fct_transactions') }}
    group by iban, booking_month
),

first_opening as (
    select iban, date_from, opening_balance, currency
    from (
        select
            iban,
            date_from,
            opening_balance,
            currency,
            row_number() over (partition by iban order by date_from, date_to) as position
        from {{ ref('fct_statement_windows') }}
    ) as ranked
    where position = 1
),

bank_closings as (
    select iban, date_to, closing_balance, currency
    from {{ ref('fct_statement_windows') }}
    where effective_to = date_to
      and verification <> 'unverifiable'
),

reconciled as (
    select
        m.iban,
        m.customer_id,
        m.profile,
        m.balance_month,
        m.as_of_date,
        m.currency,
        case
            when p.iban is null and o.currency = 'BGN' and m.currency = 'EUR' then {{ bgn_to_eur('o.opening_balance') }}
            when p.iban is null then o.opening_balance
            when p.currency = 'BGN' and m.currency = 'EUR' then {{ bgn_to_eur('p.closing_balance') }}
            else p.closing_balance
        end as opening_balance,
        coalesce(f.credits, 0) as credits,
        coalesce(f.debits, 0) as debits,
        coalesce(f.entry_count, 0) as entry_count,
        m.closing_balance,
        case
            when b.currency = 'BGN' and m.currency = 'EUR' then {{ bgn_to_eur('b.closing_balance') }}
            else b.closing_balance
        end as bank_closing_balance
    from months as m
    left join months as p
        on p.iban = m.iban and p.balance_month = cast({{ dbt.dateadd('month', -1, 'm.balance_month') }} as date)
    left join first_opening as o
        on o.iban = m.iban
    left join flows as f
        on f.iban = m.iban and f.booking_month = m.balance_month
    left join bank_closings as b
        on b.iban = m.iban and b.date_to = m.as_of_date
)

select
    *,
    {{ to_money('closing_balance - (opening_balance + credits - debits)') }} as difference,
    {{ to_money('closing_balance - bank_closing_balance') }} as bank_difference
from reconciled
