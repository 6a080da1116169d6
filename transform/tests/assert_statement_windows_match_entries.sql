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

loaded as (
    select
        w.iban,
        w.date_from,
        w.date_to,
        count(t.entry_id) as loaded_count,
        coalesce(sum(case when t.direction = 'debit' then t.amount end), 0) as loaded_debit,
        coalesce(sum(case when t.direction = 'credit' then t.amount end), 0) as loaded_credit
    from whole as w
    left join {{ ref('stg_fibank__transactions') }} as t
        on t.iban = w.iban and t.booking_date between w.date_from and w.date_to
    group by w.iban, w.date_from, w.date_to
)

select {{ mask_iban('w.iban') }} as account, w.date_from, w.date_to, w.entry_count, l.loaded_count,
       w.debit_turnover, l.loaded_debit, w.credit_turnover, l.loaded_credit
from whole as w
inner join loaded as l
    on l.iban = w.iban and l.date_from = w.date_from and l.date_to = w.date_to
where l.loaded_count <> w.entry_count
   or l.loaded_debit <> w.debit_turnover
   or l.loaded_credit <> w.credit_turnover
