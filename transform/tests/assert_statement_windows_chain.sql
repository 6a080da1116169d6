-- Each account's windows chain: the effective parts follow each other day after day, and each
-- part opens where the previous one closed. Where a later run took over the end of the previous
-- part's window, "closed" is that window's opening plus the loaded entries up to the part's end;
-- where a bounded re-read took over the start of this part's window, "opens" is its opening plus
-- the loaded entries before the part. A window a re-read inside it cut in two is two parts, its
-- head and its last part, with the re-read's window between them: each is checked so. Across
-- the euro changeover (a BGN part followed by an EUR part) the BGN balance is converted at 1.95583,
-- half up to the cent. An unverifiable window still has to follow on in dates, but proves no
-- balance. Failing rows name the account (masked) and the windows: a gap or overlap in what was
-- read, a missing or extra entry, or a balance the bank changed behind the lookback; a
-- `meltano run --full-refresh` reads everything again.
with parts as (
    select
        iban, date_from, date_to, currency, opening_balance, closing_balance, verification,
        effective_head_from as effective_from, effective_head_to as effective_to
    from {{ ref('fct_statement_windows') }}
    where effective_head_to is not null
    union all
    select
        iban, date_from, date_to, currency, opening_balance, closing_balance, verification,
        effective_from, effective_to
    from {{ ref('fct_statement_windows') }}
    where effective_to is not null
),

current_windows as (
    select
        *,
        row_number() over (partition by iban order by effective_from) as position
    from parts
),

pairs as (
    select
        b.iban,
        b.date_from,
        b.date_to,
        b.effective_from,
        b.currency,
        b.opening_balance,
        b.verification,
        a.verification as previous_verification,
        a.date_from as previous_from,
        a.effective_to as previous_effective_to,
        a.date_to as previous_to,
        a.currency as previous_currency,
        a.opening_balance as previous_opening,
        a.closing_balance as previous_closing
    from current_windows as b
    inner join current_windows as a
        on a.iban = b.iban and a.position = b.position - 1
),

-- Two joins, each an equality and one date range: an `or` of the two ranges makes a nested loop.
previous_moved as (
    select p.iban, p.effective_from, coalesce(sum(t.signed_amount), 0) as previous_signed_total
    from pairs as p
    left join {{ ref('stg_fibank__transactions') }} as t
        on t.iban = p.iban and t.booking_date between p.previous_from and p.previous_effective_to
    group by p.iban, p.effective_from
),

head_moved as (
    select p.iban, p.effective_from, coalesce(sum(t.signed_amount), 0) as head_signed_total
    from pairs as p
    left join {{ ref('stg_fibank__transactions') }} as t
        on t.iban = p.iban and t.booking_date >= p.date_from and t.booking_date < p.effective_from
    group by p.iban, p.effective_from
),

expected as (
    select
        p.*,
        case
            when p.previous_effective_to = p.previous_to then p.previous_closing
            else p.previous_opening + m.previous_signed_total
        end as previous_end_balance,
        p.opening_balance + h.head_signed_total as effective_opening
    from pairs as p
    inner join previous_moved as m
        on m.iban = p.iban and m.effective_from = p.effective_from
    inner join head_moved as h
        on h.iban = p.iban and h.effective_from = p.effective_from
)

select
    {{ mask_iban('iban') }} as account,
    previous_from,
    previous_effective_to,
    effective_from,
    date_to,
    previous_end_balance,
    effective_opening as opening_balance
from expected
where effective_from <> cast(previous_effective_to + 1 as date)
   or (verification <> 'unverifiable' and previous_verification <> 'unverifiable' and effective_opening <> case
        when previous_currency = 'BGN' and currency = 'EUR' then {{ bgn_to_eur('previous_end_balance') }}
        else previous_end_balance
    end)
