-- Net worth in EUR at the end of every month (the last day covered for the current month), per
-- profile and for all profiles together ('all').
with ranked as (
    select
        *,
        {{ month_of('balance_date') }} as balance_month,
        row_number() over (
            partition by profile, {{ month_of('balance_date') }} order by balance_date desc
        ) as position_from_end
    from {{ ref('mart_net_worth_daily') }}
)

select
    balance_month,
    profile,
    balance_date as as_of_date,
    net_worth_eur,
    account_count,
    accounts_without_rate,
    accounts_at_last_known_rate
from ranked
where position_from_end = 1
