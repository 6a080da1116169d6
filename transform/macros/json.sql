{#- One text field of a JSON object column (the raw `extra` columns): DuckDB stores JSON, PostgreSQL JSONB. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'fibank')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}
