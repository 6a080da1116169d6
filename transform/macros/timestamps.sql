{#- The booking instant as a UTC timestamp without time zone, whatever the loader made of the
    tap's `booked_at` (an ISO 8601 date-time with its Sofia offset). -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'fibank')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}

{% macro postgres__utc_timestamp(column) -%}
    {#- target-postgres stores the instant in a `timestamp` column, in UTC (meltano.yml: PGTZ).
        A `timestamptz` (or text with its offset) from another loader is turned into UTC here,
        not by the session's time zone, which dbt's connection does not pin. -#}
    case
        when pg_typeof({{ column }}) = 'timestamp without time zone'::regtype then cast({{ column }} as timestamp)
        else cast({{ column }} as timestamptz) at time zone 'UTC'
    end
{%- endmacro %}


{#- The Sofia calendar date of a UTC timestamp (without time zone): the bank's day. -#}
{% macro sofia_date(utc_column) -%}
    {{ return(adapter.dispatch('sofia_date', 'fibank')(utc_column)) }}
{%- endmacro %}

{% macro default__sofia_date(utc_column) -%}
    cast(({{ utc_column }} at time zone 'UTC') at time zone 'Europe/Sofia' as date)
{%- endmacro %}

{% macro duckdb__sofia_date(utc_column) -%}
    cast(timezone('Europe/Sofia', timezone('UTC', {{ utc_column }})) as date)
{%- endmacro %}


{#- Today in Sofia: the day a complete warehouse reaches, and the one staleness counts from.
    The var `today` (YYYY-MM-DD) takes the place of the database's clock when set; unset (the
    default, as in production) dbt reads now(). Where the var is not given, the tap's
    TAP_FIBANK_FROZEN_TODAY is read instead, so that the tests' one frozen day (tests/conftest.py)
    reaches dbt inside `meltano run`, where no `--vars` can be passed: tap and dbt then agree on
    the day even when a session crosses midnight in Sofia. -#}
{% macro sofia_today() -%}
    {%- set today = var('today', none) or env_var('TAP_FIBANK_FROZEN_TODAY', '') -%}
    {%- if today -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', today | string) -%}
            {{ exceptions.raise_compiler_error("today must be a date as YYYY-MM-DD, not '" ~ today ~ "'") }}
        {%- endif -%}
        cast('{{ today }}' as date)
    {%- else -%}
        {{ return(adapter.dispatch('sofia_today', 'fibank')()) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__sofia_today() -%}
    cast(now() at time zone 'Europe/Sofia' as date)
{%- endmacro %}

{% macro duckdb__sofia_today() -%}
    cast(timezone('Europe/Sofia', now()) as date)
{%- endmacro %}
