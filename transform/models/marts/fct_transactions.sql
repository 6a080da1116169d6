-- Every booked entry with its customer and profile (person / business), category, counterparty,
-- EUR value and whether it only moved money between the login's own accounts: the table to query
-- by hand.
with transactions as (
    select * from {{ ref('int_transactions_converted_to_eur') }}
),

customers as (
    select * from {{ ref('stg_fibank__customers') }}
),

own_accounts as (
    select iban from {{ ref('stg_fibank__accounts') }}
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
)

select
    c.transaction_key,
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
    coalesce(
        replace(upper(c.counterparty_account), ' ', '') <> c.iban
        and replace(upper(c.counterparty_account), ' ', '') in (select iban from own_accounts),
        false
    ) as is_own_account_transfer,
    coalesce(
        nullif(trim(c.counterparty_name), ''),
        nullif(trim(c.ordering_or_beneficiary_party), ''),
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
from categorised as c
left join customers as cu
    on c.customer_id = cu.customer_id
