-- The balance of every account at the end of every month (the last day read for the current
-- month), in the account's currency that day and in EUR: a converted BGN account shows BGN up to
-- December 2025 and EUR from January 2026, and its EUR series runs straight through.
with daily as (
    select
        *,
        {{ month_of('balance_date') }} as balance_month,
        row_number() over (
            partition by iban, {{ month_of('balance_date') }} order by balance_date desc
        ) as position_from_end
    from {{ ref('mart_daily_balances') }}
)

select
    iban,
    customer_id,
    profile,
    balance_month,
    balance_date as as_of_date,
    currency,
    end_of_day_balance as closing_balance,
    end_of_day_balance_eur as closing_balance_eur,
    eur_rate_is_last_known
from daily
where position_from_end = 1
