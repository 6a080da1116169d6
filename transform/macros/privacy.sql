{#- An IBAN as a failing test may print it: the last four characters only, as the tap logs it. -#}
{% macro mask_iban(column) -%}
    ('****' || right({{ column }}, 4))
{%- endmacro %}
