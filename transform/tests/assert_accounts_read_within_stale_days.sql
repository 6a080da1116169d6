-- No account was last read more than `stale_days` days (default 3) before today in Sofia: the
-- pipeline stopped running, or the bank has kept failing this account. Failing rows name the
-- account (masked), the day it was last read and today. Run the pipeline; if one account keeps
-- failing, see the tap's log. (`dbt build --vars '{stale_days: 7}'` allows longer.)
select
    {{ mask_iban('iban') }} as account,
    login,
    last_read_date,
    {{ sofia_today() }} as today,
    {{ var('stale_days') }} as stale_days
from {{ ref('dim_accounts') }}
where last_read_date < cast({{ sofia_today() }} - {{ var('stale_days') }} as date){{ for_login('login') }}
