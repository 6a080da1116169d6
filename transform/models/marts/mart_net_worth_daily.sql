-- Net worth in EUR for every day the warehouse covers: the end-of-day balances of all accounts,
-- per profile (person, business) and for all profiles together ('all'). Other currencies are at
-- the ECB rate in force that day; accounts_without_rate counts balances no rate converts (left
-- out of the sum), accounts_at_last_known_rate those valued at the seed's last rate.
select
    balance_date,
    -- grouping() tells the total apart from a group whose profile is null (an entry whose
    -- customer row is missing: 'unknown', which the not_null test on profile names).
    case when grouping(profile) = 1 then 'all' else coalesce(profile, 'unknown') end as profile,
    {{ to_money('coalesce(sum(end_of_day_balance_eur), 0)') }} as net_worth_eur,
    count(*) as account_count,
    sum(case when end_of_day_balance_eur is null then 1 else 0 end) as accounts_without_rate,
    sum(case when eur_rate_is_last_known then 1 else 0 end) as accounts_at_last_known_rate
from {{ ref('mart_daily_balances') }}
group by grouping sets ((balance_date, profile), (balance_date))  -- noqa: PRS
