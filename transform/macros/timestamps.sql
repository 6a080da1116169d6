{#- The booking instant as a UTC timestamp without time zone, whatever the loader made of the
    tap's `booked_at` (an ISO 8601 date-time with its Sofia offset). -#}
{% macro utc_timestamp(column) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'fibank')(column)) }}
{%- endmacro %}

{% macro default__utc_timestamp(column) -%}
    cast({{ column }} as timestamp)
{%- endmacro %}
