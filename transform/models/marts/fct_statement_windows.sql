-- Every statement window the tap read, and the part of it that is still the bank's latest word.
--
-- A run reads an account's windows contiguously, from run_from to run_to: usually from its
-- bookmark minus the lookback to the day it ran, so a later run's windows overlap the end of the
-- earlier run's (or all of a window the tap held back because it did not add up); with the tap's
-- `end_date` (or start_date with --full-refresh) it reads a bounded stretch of the past again. A
-- later run takes over only the days it read. For every window, [effective_from, effective_to]
-- is the part no later run read again: the whole window when nothing later overlaps it, a first
-- part where a later run took over its end, a last part where a bounded re-read took over its
-- start; both null when later runs read it all. A re-read inside one window, touching neither of
-- its ends, cuts it in two: the days before the re-read are then
-- [effective_head_from, effective_head_to] and the days after it [effective_from, effective_to]
-- (so the window's closing balance still stands when effective_to = date_to); the head columns
-- are null otherwise. The effective parts of an account (heads included) tile its history
-- without gap or overlap; the statement tests check them. (Two re-reads inside one window leave
-- the days between them to no part: the chain test names the gap.)
--
-- Linear in the runs: a run that reads at least as far as every earlier run ("reaches the end",
-- as every daily run does) takes over the end of each earlier window from its run_from on, found
-- with one window function; only the few bounded re-reads are joined to the windows they touch.
with windows as (
    select * from {{ ref('stg_fibank__statements') }}
),

runs as (
    select
        iban,
        run_started_at_utc,
        min(date_from) as run_from,
        max(date_to) as run_to
    from windows
    group by iban, run_started_at_utc
),

reach as (
    select
        *,
        run_to >= coalesce(
            max(run_to) over (
                partition by iban order by run_started_at_utc
                rows between unbounded preceding and 1 preceding
            ),
            run_to
        ) as reaches_end
    from runs
),

later as (
    select
        *,
        min(case when reaches_end then run_from end) over (
            partition by iban order by run_started_at_utc
            rows between 1 following and unbounded following
        ) as later_reaching_from
    from reach
),

bounded as (
    select w.iban, w.date_from, w.date_to,
        max(case when b.run_from <= w.date_from then b.run_to end) as start_read_to,
        min(case when b.run_to >= w.date_to then b.run_from end) as end_read_from,
        min(case when b.run_from > w.date_from and b.run_to < w.date_to then b.run_from end) as inner_read_from,
        max(case when b.run_from > w.date_from and b.run_to < w.date_to then b.run_to end) as inner_read_to
    from windows as w
    inner join reach as b
        on b.iban = w.iban
        and not b.reaches_end
        and b.run_started_at_utc > w.run_started_at_utc
        and b.run_from <= w.date_to
        and b.run_to >= w.date_from
    group by w.iban, w.date_from, w.date_to
),

parts as (
    select
        w.*,
        case
            when bd.start_read_to is not null then cast(bd.start_read_to + 1 as date)
            else w.date_from
        end as part_from,
        least(
            w.date_to,
            coalesce(cast(l.later_reaching_from - 1 as date), w.date_to),
            coalesce(cast(bd.end_read_from - 1 as date), w.date_to)
        ) as part_to,
        bd.inner_read_from,
        bd.inner_read_to
    from windows as w
    inner join later as l
        on l.iban = w.iban and l.run_started_at_utc = w.run_started_at_utc
    left join bounded as bd
        on bd.iban = w.iban and bd.date_from = w.date_from and bd.date_to = w.date_to
),

-- A re-read inside the part cuts it: a head before the re-read, a tail after it.
cut as (
    select
        *,
        case
            when inner_read_to is null then part_from
            else greatest(part_from, cast(inner_read_to + 1 as date))
        end as tail_from,
        -- least() skips a null: no re-read inside, no head.
        case when inner_read_from is not null then least(part_to, cast(inner_read_from - 1 as date)) end as head_to
    from parts
),

pieces as (
    select
        *,
        tail_from <= part_to as has_tail,
        coalesce(head_to >= part_from, false) as has_head
    from cut
)

select
    login,
    iban,
    customer_id,
    date_from,
    date_to,
    currency,
    opening_balance,
    closing_balance,
    debit_turnover,
    credit_turnover,
    entry_count,
    entries_debit_total,
    entries_credit_total,
    is_balanced,
    verification,
    run_started_at_utc,
    case when has_tail then tail_from when has_head then part_from end as effective_from,
    case when has_tail then part_to when has_head then head_to end as effective_to,
    case when has_tail and has_head then part_from end as effective_head_from,
    case when has_tail and has_head then head_to end as effective_head_to
from pieces
