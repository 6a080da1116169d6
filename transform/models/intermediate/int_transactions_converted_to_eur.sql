-- Every entry with its EUR value: EUR as is, BGN at the fixed 1.95583, other currencies at the
-- ECB reference rate in force on the booking day (half-up to the cent), with that rate, its day,
-- and a flag where it is the seed's last rate used after the seed's end.
--
-- Incremental (delete+insert on transaction_key). The loaders upsert entries and never delete
-- them, and every run writes a statements row for each window it read. Per account, a build
-- converts again every entry booked on or after the first day of any window read by a run newer
-- than the latest run the table has seen for that account (latest_run_at_utc; a build follows its
-- loads, as the jobs run them), every entry of an account it has not seen, and every entry
-- converted at a last known rate or not at all (the seed may have newer rates or a new currency
-- now), and every entry it does not hold or holds under another booking day (an entry the bank
-- booked again on a day before the days the run read: its rate day changed). A past rate of the
-- seed changed, or a raw table edited by hand (no run), needs `dbt build --full-refresh` (README,
-- "Incremental builds").
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='transaction_key',
    on_schema_change='fail',
) }}

with runs as (
    -- Per account, the latest run that read it (the mark a later build compares with).
    select iban, max(run_started_at_utc) as latest_run_at_utc
    from {{ ref('stg_fibank__statements') }}
    group by iban
),

{% if is_incremental() %}
seen as (
    select iban, max(latest_run_at_utc) as latest_run_at_utc
    from {{ this }}
    group by iban
),

read_again as (
    {{ first_day_read_since('seen') }}
),

{% endif %}
transactions as (
    select t.*
    from {{ ref('stg_fibank__transactions') }} as t
    {% if is_incremental() %}
    left join seen
        on t.iban = seen.iban
    left join read_again as ra
        on t.iban = ra.iban
    left join {{ this }} as held
        on t.transaction_key = held.transaction_key
    where seen.iban is null
        or seen.latest_run_at_utc is null
        or t.booking_date >= ra.from_day
        or held.transaction_key is null
        or held.booking_date <> t.booking_date
        or held.eur_rate_is_last_known
        or held.amount_eur is null
    {% endif %}
),

rates as (
    select currency, calendar_day, rate_date, units_per_eur, is_last_known
    from {{ ref('int_ecb_rates_daily') }}
)

select
    t.*,
    {{ amount_in_eur('t.amount', 't.currency', 'r.units_per_eur') }} as amount_eur,
    {{ amount_in_eur('t.signed_amount', 't.currency', 'r.units_per_eur') }} as signed_amount_eur,
    {{ amount_in_eur('t.balance_after', 't.currency', 'r.units_per_eur') }} as balance_after_eur,
    {{ units_per_eur('t.currency', 'r.units_per_eur') }} as units_per_eur,
    r.rate_date as eur_rate_date,
    coalesce(r.is_last_known, false) as eur_rate_is_last_known,
    runs.latest_run_at_utc
from transactions as t
left join rates as r
    on t.currency = r.currency and t.booking_date = r.calendar_day
left join runs
    on t.iban = runs.iban
