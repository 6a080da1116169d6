{{ config(severity='warn') }}
-- A warning (not yet an error) for every account its login's latest run did not read (each login
-- runs on its own schedule: another login's later run says nothing about this one's accounts), with the day it was
-- last read: the bank failed its statement this time (the tap skipped it and said so). The next
-- run tries it again; once it is older than `stale_days`, assert_accounts_read_within_stale_days
-- fails.
with latest_run as (
    select login, max(run_started_at_utc) as run_started_at_utc
    from {{ ref('fct_statement_windows') }}
    group by login
)

select
    {{ mask_iban('a.iban') }} as account,
    a.login,
    a.last_read_date,
    {{ sofia_date('r.run_started_at_utc') }} as latest_run_date
from {{ ref('dim_accounts') }} as a
inner join latest_run as r
    on r.login = a.login
where a.last_read_at_utc < r.run_started_at_utc{{ for_login('a.login') }}
