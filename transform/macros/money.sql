{#- Money is exact: every amount becomes decimal(18, 2), whatever the loader stored.
    target-duckdb stores JSON numbers as DOUBLE (exact for two-place amounts below 2^53 cents, and
    the cast rounds to the nearest cent); target-postgres stores NUMERIC. -#}
{% macro to_money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}


{#- A BGN amount in EUR at the fixed rate (1 EUR = 1.95583 BGN), rounded half-up (away from zero)
    to the cent, as the euro-changeover law prescribes. -#}
{% macro bgn_to_eur(expression) -%}
    {{ return(adapter.dispatch('bgn_to_eur', 'fibank')(expression)) }}
{%- endmacro %}

{% macro default__bgn_to_eur(expression) -%}
    {#- PostgreSQL: numeric division keeps 16+ significant digits and round() on numeric rounds half
        away from zero; an exact half cent cannot occur (195583 is prime to 2 and 5). -#}
    cast(round(cast({{ expression }} as numeric(20, 2)) / {{ var('bgn_per_eur') }}, 2) as decimal(18, 2))
{%- endmacro %}

{% macro duckdb__bgn_to_eur(expression) -%}
    {#- DuckDB divides decimals as DOUBLE, so divide whole cents instead:
        round_half_up(c / 1.95583) = (2 * c * 100000 + 195583) // (2 * 195583) for c >= 0. -#}
    cast(
        sign(cast(round(cast({{ expression }} as decimal(18, 2)) * 100) as hugeint))
        * ((abs(cast(round(cast({{ expression }} as decimal(18, 2)) * 100) as hugeint)) * 200000 + 195583) // 391166)
        as decimal(20, 0)
    ) * cast(0.01 as decimal(3, 2))
{%- endmacro %}


{#- An amount in EUR: EUR as is, BGN at the fixed rate, any other currency null (no rate). -#}
{% macro amount_in_eur(amount, currency) -%}
    case
        when {{ currency }} = 'EUR' then {{ to_money(amount) }}
        when {{ currency }} = 'BGN' then {{ to_money(bgn_to_eur(amount)) }}
    end
{%- endmacro %}


{#- The first day of the month of a date, as a date. -#}
{% macro month_of(expression) -%}
    cast(date_trunc('month', {{ expression }}) as date)
{%- endmacro %}
