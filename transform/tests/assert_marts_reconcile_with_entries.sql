-- Every mart adds up to the entries it was built from: per account and currency, the monthly
-- debits and credits, the fees, and in EUR the all-accounts months.
with entries as (
    select
        iban,
        currency,
        sum(case when direction = 'debit' then amount else 0 end) as debit_total,
        sum(case when direction = 'credit' then amount else 0 end) as credit_total,
        sum(case when is_bank_charge then -signed_amount else 0 end) as charges_total
    from {{ ref('fct_transactions') }}
    group by iban, currency
),

monthly as (
    select iban, currency, sum(debit_total) as debit_total, sum(credit_total) as credit_total
    from {{ ref('mart_monthly_debit_credit') }}
    group by iban, currency
),

fees as (
    select iban, currency, sum(charges_total) as charges_total
    from {{ ref('mart_fees_monthly') }}
    group by iban, currency
),

per_account as (
    select
        'monthly or fees' as check_name,
        e.iban,
        e.currency
    from entries as e
    left join monthly as m
        on e.iban = m.iban and e.currency = m.currency
    left join fees as f
        on e.iban = f.iban and e.currency = f.currency
    where m.debit_total is null
       or m.debit_total <> e.debit_total
       or m.credit_total <> e.credit_total
       or coalesce(f.charges_total, 0) <> e.charges_total
),

eur_entries as (
    select
        sum(case when direction = 'debit' then amount_eur else 0 end) as debit_eur,
        sum(case when direction = 'credit' then amount_eur else 0 end) as credit_eur,
        count(*) as entry_count
    from {{ ref('fct_transactions') }}
),

eur_months as (
    select
        sum(debit_eur) as debit_eur,
        sum(credit_eur) as credit_eur,
        sum(debit_count + credit_count + entries_not_in_eur) as entry_count
    from {{ ref('mart_monthly_debit_credit_eur') }}
),

all_accounts as (
    select 'eur months' as check_name, cast(null as varchar) as iban, cast(null as varchar) as currency
    from eur_entries as e
    cross join eur_months as m
    where coalesce(e.debit_eur, 0) <> coalesce(m.debit_eur, 0)
       or coalesce(e.credit_eur, 0) <> coalesce(m.credit_eur, 0)
       or e.entry_count <> coalesce(m.entry_count, 0)
)

select * from per_account
union all
select * from all_accounts
