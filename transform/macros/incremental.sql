{#- The incremental models' one rule for what to compute again: per account, the first day read by
    a run newer than the latest run the model has seen (`seen`: iban, latest_run_at_utc). -#}
{% macro first_day_read_since(seen) -%}
    select s.iban, min(s.date_from) as from_day
    from {{ ref('stg_fibank__statements') }} as s
    inner join {{ seen }} as seen
        on s.iban = seen.iban and s.run_started_at_utc > seen.latest_run_at_utc
    group by s.iban
{%- endmacro %}


{#- dbt's should_full_refresh (materializations/configs.sql), which both is_incremental() and the
    incremental materialization ask, overridden: an incremental model also builds in full when its
    table lacks a column the model declares (its yml columns; all of them where a contract is
    enforced). A table built by an older version (before latest_run_at_utc, say) would otherwise
    fail the next build: the model reads the column from {{ this }} before on_schema_change='fail'
    is checked, and `fail` is kept so that no old row is left without a new column. A full build is
    the upgrade, with no `--full-refresh` for the user to know of. -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}{%- do return(configured) -%}{%- endif -%}
    {%- if flags.FULL_REFRESH or not execute or model.config.materialized != 'incremental' -%}
        {%- do return(flags.FULL_REFRESH) -%}
    {%- endif -%}
    {%- do return(lacks_declared_column(this)) -%}
{% endmacro %}

{#- The existing table of `relation` lacks a column the model declares (false when there is none). -#}
{% macro lacks_declared_column(relation) %}
    {%- set existing = adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
    {%- if existing is none -%}{%- do return(false) -%}{%- endif -%}
    {%- set held = adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = model.columns.keys() | map('lower') | reject('in', held) | list -%}
    {%- if missing -%}
        {%- do log(relation.identifier ~ ' lacks ' ~ missing | join(', ') ~ ': built in full', info=true) -%}
    {%- endif -%}
    {%- do return(missing | length > 0) -%}
{% endmacro %}
