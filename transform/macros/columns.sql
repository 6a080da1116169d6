{#- A raw column that a newer tap sends and an older table may lack: the column where the loaded
    table has it, else `fallback`. Checked when dbt runs (the table exists by then). -#}
{% macro column_or(relation, column, fallback) -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower in names -%}{{ column }}{%- else -%}{{ fallback }}{%- endif -%}
    {%- else -%}{{ fallback }}{%- endif -%}
{%- endmacro %}
