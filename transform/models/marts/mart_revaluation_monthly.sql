-- Per account and month, what moved its EUR value: opening + flows + FX revaluation + rounding =
-- closing, to the cent (assert_net_worth_change_is_flows_plus_revaluation). The flows are the
-- entries in EUR, each converted on its booking day (the figures of the EUR marts); the FX
-- revaluation is a USD (etc.) balance held overnight and valued at the next day's rate; the
-- rounding is the drift between a BGN or USD balance converted as a whole and its entries
-- converted one by one, each half-up to the cent. An account's first day opens with the balance it
-- carried in, valued that day. Days whose balance no rate converts are counted, not summed.
with balances as (
    select
        iban,
        customer_id,
        profile,
        balance_date,
        currency,
        end_of_day_balance,
        end_of_day_balance_eur,
        units_per_eur,
        {{ month_of('balance_date') }} as balance_month,
        -- One ordering for every window here, so the database sorts the days once.
        lag(currency) over by_day as previous_currency,
        lag(end_of_day_balance) over by_day as previous_balance,
        lag(end_of_day_balance_eur) over by_day as previous_balance_eur,
        {{ month_of('balance_date') }} <> coalesce({{ month_of('lag(balance_date) over by_day') }}, date '1900-01-01')
            as opens_month,
        {{ month_of('balance_date') }} <> coalesce({{ month_of('lead(balance_date) over by_day') }}, date '1900-01-01')
            as closes_month
    from {{ ref('mart_daily_balances') }}
    window by_day as (partition by iban order by balance_date)
),

flows as (
    select
        iban,
        booking_date,
        {{ to_money('sum(signed_amount)') }} as flow,
        {{ to_money('sum(signed_amount_eur)') }} as flow_eur
    from {{ ref('fct_transactions') }}
    group by iban, booking_date
),

days as (
    select
        b.*,
        coalesce(f.flow, 0) as flow,
        coalesce(f.flow_eur, 0) as flow_eur,
        -- The day's opening balance in the day's currency (a BGN balance enters the euro converted).
        case
            when b.previous_currency is null then b.end_of_day_balance - coalesce(f.flow, 0)
            when b.previous_currency = 'BGN' and b.currency = 'EUR' then {{ bgn_to_eur('b.previous_balance') }}
            else b.previous_balance
        end as opening_balance
    from balances as b
    left join flows as f
        on b.iban = f.iban and b.balance_date = f.booking_date
),

valued as (
    select
        *,
        {{ amount_in_eur('opening_balance', 'currency', 'units_per_eur') }} as opening_at_day_rate,
        {{ amount_in_eur('opening_balance + flow', 'currency', 'units_per_eur') }} as held_at_day_rate
    from days
),

daily as (
    select
        *,
        coalesce(previous_balance_eur, opening_at_day_rate) as opening_balance_eur
    from valued
)

select
    iban,
    customer_id,
    profile,
    balance_month,
    max(case when closes_month then currency end) as currency,
    {{ to_money('max(case when opens_month then opening_balance_eur end)') }} as opening_balance_eur,
    {{ to_money('sum(flow_eur)') }} as flows_eur,
    {{ to_money('sum(opening_at_day_rate - opening_balance_eur)') }} as fx_revaluation_eur,
    {{ to_money('sum(held_at_day_rate - opening_at_day_rate - flow_eur)') }} as rounding_eur,
    {{ to_money('max(case when closes_month then end_of_day_balance_eur end)') }} as closing_balance_eur,
    cast(sum(case when held_at_day_rate is null or opening_balance_eur is null then 1 else 0 end) as bigint)
        as days_without_rate
from daily
group by iban, customer_id, profile, balance_month
