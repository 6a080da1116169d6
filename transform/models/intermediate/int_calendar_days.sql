-- Every day from the first the warehouse knows (an entry, a statement window or an ECB rate) to
-- the last, one row each: the calendar that rates and balances are carried forward over.
{%- set first_day -%}
    (select coalesce(least(
        (select min(booking_date) from {{ ref('stg_fibank__transactions') }}),
        (select min(date_from) from {{ ref('stg_fibank__statements') }}),
        (select min(rate_date) from {{ ref('stg_ecb__rates') }})
    ), {{ sofia_today() }}))
{%- endset -%}
{%- set last_day -%}
    (select coalesce(greatest(
        (select max(booking_date) from {{ ref('stg_fibank__transactions') }}),
        (select max(date_to) from {{ ref('stg_fibank__statements') }}),
        (select max(rate_date) from {{ ref('stg_ecb__rates') }})
    ), {{ sofia_today() }}))
{%- endset %}

with spine as (
    {#- date_spine stops before its end: end the day after the last. #}
    {{ dbt.date_spine('day', first_day, dbt.dateadd('day', 1, last_day)) }}
)

select cast(date_day as date) as calendar_day
from spine
