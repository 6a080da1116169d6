-- Every statement window the tap read, and the part of it that is still the bank's latest word.
--
-- Each run reads an account's windows contiguously from its bookmark minus the lookback to the
-- day it ran, so a later run's windows overlap the end of the earlier run's (or all of a window
-- the tap held back because it did not add up). For every window, `effective_to` is the last day
-- no later run read again: `date_to` when nothing later overlaps it, an earlier day when a later
-- run took over inside it, null when a later run read it all again. The effective parts of an
-- account tile its history without gap or overlap; the statement tests check them.
with windows as (
    select * from {{ ref('stg_fibank__statements') }}
),

runs as (
    select iban, run_started_at_utc, min(date_from) as run_from
    from windows
    group by iban, run_started_at_utc
),

taken_over as (
    select w.iban, w.date_from, w.date_to, min(r.run_from) as later_from
    from windows as w
    inner join runs as r
        on r.iban = w.iban and r.run_started_at_utc > w.run_started_at_utc
    group by w.iban, w.date_from, w.date_to
)

select
    w.*,
    case
        when t.later_from is null or t.later_from > w.date_to then w.date_to
        when t.later_from > w.date_from then cast(t.later_from - 1 as date)
    end as effective_to
from windows as w
left join taken_over as t
    on t.iban = w.iban and t.date_from = w.date_from and t.date_to = w.date_to
