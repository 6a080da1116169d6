-- The loaded entries of every window that is wholly the bank's latest word are exactly the ones
-- the bank counted: as many, and adding up to its debit and credit turnovers. A deleted, missing
-- or duplicated entry fails here and names its window. (Windows a later run took over in part are
-- checked through the chain test; unverifiable windows have no bank totals to match.) Failing
-- rows name the account (masked) and the window: `meltano run --full-refresh`.
with whole as (
    select *
    from {{ ref('fct_statement_windows') }}
    where effective_from = date_from
      and effective_to = date_to
      and verification <> 'unverifiable'
),

-- One join, the bank's figures carried through the grouping: joining the totals back to the
-- windows made PostgreSQL, which expects a handful of whole windows, run the whole join again for
-- each of them.
loaded as (
    select
        w.iban,
        w.date_from,
        w.date_to,
        w.entry_count,
        w.debit_turnover,
        w.credit_turnover,
        count(t.entry_id) as loaded_count,
        coalesce(sum(case when t.direction = 'debit' then t.amount end), 0) as loaded_debit,
        coalesce(sum(case when t.direction = 'credit' then t.amount end), 0) as loaded_credit
    from whole as w
    left join {{ ref('stg_fibank__transactions') }} as t
        on t.iban = w.iban and t.booking_date between w.date_from and w.date_to
    group by w.iban, w.date_from, w.date_to, w.entry_count, w.debit_turnover, w.credit_turnover
)

select {{ mask_iban('iban') }} as account, date_from, date_to, entry_count, loaded_count,
       debit_turnover, loaded_debit, credit_turnover, loaded_credit
from loaded
where loaded_count <> entry_count
   or loaded_debit <> debit_turnover
   or loaded_credit <> credit_turnover
