{#- The incremental models' one rule for what to compute again: per account, the first day read by
    a run newer than the latest run the model has seen (`seen`: iban, latest_run_at_utc). -#}
{% macro first_day_read_since(seen) -%}
    select s.iban, min(s.date_from) as from_day
    from {{ ref('stg_fibank__statements') }} as s
    inner join {{ seen }} as seen
        on s.iban = seen.iban and s.run_started_at_utc > seen.latest_run_at_utc
    group by s.iban
{%- endmacro %}
