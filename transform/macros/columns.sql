{#- A raw column that a newer tap sends and an older table may lack: the column where the loaded
    table has it, else `fallback`. Checked when dbt runs (the table exists by then). -#}
{% macro column_or(relation, column, fallback) -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower in names -%}{{ column }}{%- else -%}{{ fallback }}{%- endif -%}
    {%- else -%}{{ fallback }}{%- endif -%}
{%- endmacro %}

{#- The login that read a raw row: the tap's `login` column (a stable key that is not a secret),
    or 'default' in a table an older tap loaded (one login per warehouse then). -#}
{% macro login_of(relation) -%}
    cast(coalesce({{ column_or(relation, 'login', 'null') }}, 'default') as varchar)
{%- endmacro %}

{#- `and <column> = '<login>'` when the build is for one login (`--vars '{login: ...}'`), so a
    test fails only on that login's rows; nothing when the var is unset (every login). -#}
{% macro for_login(column) -%}
    {%- if var('login', none) is not none %} and {{ column }} = '{{ var("login") | replace("'", "''") }}'{% endif -%}
{%- endmacro %}
