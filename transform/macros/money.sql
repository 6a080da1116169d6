{#- Money is exact: every amount becomes decimal(18, 2), whatever the loader stored.
    target-duckdb stores JSON numbers as DOUBLE (exact for two-place amounts below 2^53 cents, and
    the cast rounds to the nearest cent); target-postgres stores NUMERIC. -#}
{% macro to_money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}


{#- An amount divided by a rate (units per EUR, at most six decimals), rounded half-up (away from
    zero) to the cent, as the euro-changeover law prescribes for BGN and as the ECB's reference
    rates are applied. -#}
{% macro divide_to_cents(expression, rate) -%}
    {{ return(adapter.dispatch('divide_to_cents', 'fibank')(expression, rate)) }}
{%- endmacro %}

{% macro default__divide_to_cents(expression, rate) -%}
    {#- PostgreSQL: numeric division keeps 16+ significant digits and round() on numeric rounds
        half away from zero. -#}
    cast(round(cast({{ expression }} as numeric(20, 2)) / cast({{ rate }} as numeric(18, 6)), 2) as decimal(18, 2))
{%- endmacro %}

{% macro duckdb__divide_to_cents(expression, rate) -%}
    {#- DuckDB divides decimals as DOUBLE, so divide whole cents by whole millionths instead:
        round_half_up(c / (m / 10^6)) = (2 * c * 10^6 + m) // (2 * m) for c >= 0. -#}
    cast(
        sign(cast(round(cast({{ expression }} as decimal(18, 2)) * 100) as hugeint))
        * ((abs(cast(round(cast({{ expression }} as decimal(18, 2)) * 100) as hugeint)) * 2000000
            + cast(round(cast({{ rate }} as decimal(18, 6)) * 1000000) as hugeint))
           // (2 * cast(round(cast({{ rate }} as decimal(18, 6)) * 1000000) as hugeint)))
        as decimal(20, 0)
    ) * cast(0.01 as decimal(3, 2))
{%- endmacro %}


{#- A BGN amount in EUR at the fixed rate (1 EUR = 1.95583 BGN), half-up to the cent. -#}
{% macro bgn_to_eur(expression) -%}
    {{ divide_to_cents(expression, var('bgn_per_eur')) }}
{%- endmacro %}


{#- The units of `currency` per EUR on a row: 1 for EUR, the fixed 1.95583 for BGN, else the ECB
    rate the row was joined with (`ecb_rate`, null when there is none). -#}
{% macro units_per_eur(currency, ecb_rate) -%}
    case
        when {{ currency }} = 'EUR' then cast(1 as decimal(18, 6))
        when {{ currency }} = 'BGN' then cast({{ var('bgn_per_eur') }} as decimal(18, 6))
        else cast({{ ecb_rate }} as decimal(18, 6))
    end
{%- endmacro %}


{#- An amount in EUR: EUR as is, BGN at the fixed rate, any other currency at the ECB rate joined
    with the row (null when there is none). -#}
{% macro amount_in_eur(amount, currency, ecb_rate='null') -%}
    case
        when {{ currency }} = 'EUR' then {{ to_money(amount) }}
        when {{ currency }} = 'BGN' then {{ to_money(bgn_to_eur(amount)) }}
        else {{ to_money(divide_to_cents(amount, ecb_rate)) }}
    end
{%- endmacro %}


{#- The first day of the month of a date, as a date (dbt.date_trunc gives a timestamp). -#}
{% macro month_of(expression) -%}
    cast({{ dbt.date_trunc('month', expression) }} as date)
{%- endmacro %}
