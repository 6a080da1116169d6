-- Every booked entry with its login, customer and profile (person / business), category,
-- counterparty, EUR value and whether it only moved money between the login's own accounts: the
-- table to query by hand. Several logins may share one warehouse: "own" means an account of the
-- same login, never another login's.
with transactions as (
    select * from {{ ref('int_transactions_converted_to_eur') }}
),

customers as (
    select * from {{ ref('stg_fibank__customers') }}
),

accounts as (
    select login, iban from {{ ref('stg_fibank__accounts') }}
),

transaction_types as (
    select * from {{ ref('transaction_types') }}
),

categorised as (
    select
        t.*,
        coalesce(
            tt.category,
            case
                -- Codes the seed does not know: recognise the bank's charges by their name.
                -- (Cyrillic has no case-insensitive LIKE in every PostgreSQL locale: spell the forms out.)
                when t.description like '%комисион%' or t.description like '%Комисион%'
                    or t.description like '%КОМИСИОН%'
                    or ' ' || lower(t.description) || ' ' like '% commission%' then 'commission'
                when t.description like '%такса%' or t.description like '%Такса%'
                    or t.description like '%ТАКСА%'
                    or ' ' || lower(t.description) || ' ' like '% fee %' then 'fee'
                when t.direction = 'credit' then 'other_credit'
                else 'other_debit'
            end
        ) as category
    from transactions as t
    left join transaction_types as tt
        on t.transaction_type = tt.transaction_type
),

with_login as materialized (
    select
        c.*,
        a.login,
        nullif(replace(upper(c.counterparty_account), ' ', ''), '') as counterparty_iban,
        -- Trimmed, inner spaces collapsed; one spelling per name whatever its case.
        nullif(regexp_replace(trim(coalesce(c.counterparty_name, '')), '\s+', ' ', 'g'), '') as name_clean,
        nullif(regexp_replace(trim(coalesce(c.ordering_or_beneficiary_party, '')), '\s+', ' ', 'g'), '') as party_clean
    from categorised as c
    left join accounts as a
        on c.iban = a.iban
),

-- A debit to another account of the same login. Its credit leg on that account (where that
-- account is loaded) is own too, even where the bank names no counterparty account on it.
own_debits as (
    select distinct w.login, w.counterparty_iban as iban, w.booking_date, w.amount, w.currency
    from with_login as w
    inner join accounts as a
        on a.login = w.login and a.iban = w.counterparty_iban
    where w.direction = 'debit' and w.counterparty_iban <> w.iban
),

flagged as materialized (
    select
        w.*,
        coalesce(own.iban is not null or leg.iban is not null, false) as is_own_account_transfer,
        coalesce(w.name_clean, w.party_clean) as named_counterparty
    from with_login as w
    left join accounts as own
        on own.login = w.login and own.iban = w.counterparty_iban and own.iban <> w.iban
    left join own_debits as leg
        on w.direction = 'credit' and w.counterparty_iban is null
        and leg.login = w.login and leg.iban = w.iban and leg.booking_date = w.booking_date
        and leg.amount = w.amount and leg.currency = w.currency
),

-- One spelling per name whatever its case: that of the name's first entry (booked_at_utc, then
-- iban and entry_id), the same on every warehouse whatever its collation. Found by grouping, then
-- ordering only the first entries, not a window over every entry (the cost of this table).
names as (
    select lower(named_counterparty) as name_key, named_counterparty, booked_at_utc, iban, entry_id
    from flagged
    where named_counterparty is not null
),

first_booked as (
    select name_key, min(booked_at_utc) as first_at
    from names
    group by name_key
),

spellings as (
    select
        n.name_key,
        n.named_counterparty,
        row_number() over (partition by n.name_key order by n.iban, n.entry_id) as position
    from names as n
    inner join first_booked as f
        on n.name_key = f.name_key
        -- A name none of whose entries has a booking instant: its entries all take part.
        and coalesce(n.booked_at_utc, cast('1900-01-01' as timestamp)) = coalesce(f.first_at, cast('1900-01-01' as timestamp))
)

select
    c.transaction_key,
    c.login,
    c.iban,
    c.entry_id,
    c.customer_id,
    cu.customer_name,
    cu.profile,
    c.booking_date,
    c.booking_month,
    c.booked_at_utc,
    c.value_date,
    c.direction,
    c.amount,
    c.signed_amount,
    c.balance_after,
    c.currency,
    c.amount_eur,
    c.signed_amount_eur,
    c.balance_after_eur,
    c.units_per_eur,
    c.eur_rate_date,
    c.eur_rate_is_last_known,
    c.category,
    c.category in ('fee', 'commission') as is_bank_charge,
    -- Money moved between this login's own accounts: neither spending nor income.
    c.is_own_account_transfer,
    coalesce(
        spelling.named_counterparty,
        case
            when c.category in ('fee', 'commission', 'interest', 'correction') then 'Fibank'
            when c.category = 'cash_withdrawal' then 'Cash (ATM)'
            when c.category = 'cash_deposit' then 'Cash deposit'
        end,
        '(unknown)'
    ) as counterparty,
    c.counterparty_name,
    c.counterparty_account,
    c.ordering_or_beneficiary_party,
    c.description,
    c.transaction_type,
    c.transaction_code,
    c.reference,
    c.remittance_information,
    c.is_ebank_operation,
    c.is_payment,
    c.load_as_new
from flagged as c
left join customers as cu
    on c.customer_id = cu.customer_id
left join spellings as spelling
    on lower(c.named_counterparty) = spelling.name_key and spelling.position = 1
