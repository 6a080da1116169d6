{#- The columns together identify a row (dbt_utils' test, without the package: packages would need
    the dbt Hub, which these machines cannot reach). -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
