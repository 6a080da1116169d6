-- Every account's EUR value moves only by its flows and their revaluation: the month's closing
-- balance in EUR (mart_monthly_balances) minus the previous month's (the balance carried in for
-- the first month) equals the EUR value of its entries (fct_transactions) plus the FX revaluation
-- and the rounding drift of mart_revaluation_monthly, to the cent. Failing rows name the account
-- (masked) and the month: an entry whose amount does not follow from the balances around it (see
-- assert_balance_after_follows_previous_entry), or a conversion the marts do not apply alike.
with months as (
    select iban, balance_month, closing_balance_eur
    from {{ ref('mart_monthly_balances') }}
),

flows as (
    select iban, booking_month, sum(signed_amount_eur) as flows_eur
    from {{ ref('fct_transactions') }}
    group by iban, booking_month
),

checked as (
    select
        m.iban,
        m.balance_month,
        coalesce(p.closing_balance_eur, r.opening_balance_eur) as opening_eur,
        coalesce(f.flows_eur, 0) as flows_eur,
        r.fx_revaluation_eur,
        r.rounding_eur,
        m.closing_balance_eur as closing_eur
    from months as m
    inner join {{ ref('mart_revaluation_monthly') }} as r
        on m.iban = r.iban and m.balance_month = r.balance_month
    left join months as p
        on m.iban = p.iban and p.balance_month = cast({{ dbt.dateadd('month', -1, 'm.balance_month') }} as date)
    left join flows as f
        on m.iban = f.iban and m.balance_month = f.booking_month
)

select
    {{ mask_iban('iban') }} as account,
    balance_month,
    opening_eur,
    flows_eur,
    fx_revaluation_eur,
    rounding_eur,
    closing_eur,
    closing_eur - (opening_eur + flows_eur + fx_revaluation_eur + rounding_eur) as difference
from checked
where closing_eur <> opening_eur + flows_eur + fx_revaluation_eur + rounding_eur
