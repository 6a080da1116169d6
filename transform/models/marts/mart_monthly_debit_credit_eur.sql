-- Spending and income per month in EUR, per profile (person, business) and for all profiles
-- together ('all'): EUR as is, BGN at the fixed 1.95583, other currencies at the ECB rate of the
-- booking day. Transfers between the login's own accounts are neither: they are shown on their
-- own. Entries without any rate (a currency the ECB seed lacks) are counted, not summed.
with entries as (
    select * from {{ ref('fct_transactions') }}
),

flows as (
    select
        booking_month,
        profile,
        iban,
        direction,
        amount_eur,
        eur_rate_is_last_known,
        is_own_account_transfer,
        case when not is_own_account_transfer and direction = 'debit' then amount_eur end as spent,
        case when not is_own_account_transfer and direction = 'credit' then amount_eur end as received,
        case when is_own_account_transfer and direction = 'debit' then amount_eur end as moved_out,
        case when is_own_account_transfer and direction = 'credit' then amount_eur end as moved_in
    from entries
)

select
    booking_month,
    -- grouping() tells the total apart from a group whose profile is null (an entry whose
    -- customer row is missing: 'unknown', which the not_null test on profile names).
    case when grouping(profile) = 1 then 'all' else coalesce(profile, 'unknown') end as profile,
    {{ to_money('coalesce(sum(spent), 0)') }} as debit_eur,
    {{ to_money('coalesce(sum(received), 0)') }} as credit_eur,
    {{ to_money('coalesce(sum(received), 0) - coalesce(sum(spent), 0)') }} as net_eur,
    {{ to_money('coalesce(sum(moved_out), 0)') }} as own_transfers_out_eur,
    {{ to_money('coalesce(sum(moved_in), 0)') }} as own_transfers_in_eur,
    cast(count(spent) as bigint) as debit_count,
    cast(count(received) as bigint) as credit_count,
    cast(sum(case when is_own_account_transfer then 1 else 0 end) as bigint) as own_transfer_count,
    cast(count(distinct iban) as bigint) as account_count,
    cast(sum(case when amount_eur is null then 1 else 0 end) as bigint) as entries_not_in_eur,
    cast(sum(case when eur_rate_is_last_known then 1 else 0 end) as bigint) as entries_at_last_known_rate
from flows
group by grouping sets ((booking_month, profile), (booking_month))  -- noqa: PRS
