-- Every account a login lists has statement windows, and they reach the day the tap last read
-- it (a run reads up to its own day). Coverage counts from served_from, the first day the
-- warehouse holds a window of the account: a bank that serves only recent history (its first
-- window carries a non-zero opening balance in, dim_accounts.opening_balance_carried) is not a
-- gap. Failing rows name the account (masked) and the dates:
-- - never read: the bank failed its statement in every run (the tap's log names it); if it will
--   never be readable, stop listing it (the tap's `ibans`) and delete its row from the raw
--   accounts table;
-- - windows end before the day it was last read: windows or entries went missing from the
--   warehouse (a delete, a failed load); `meltano run --full-refresh` reads them again.
-- Gaps between windows fail assert_statement_windows_chain.
select
    {{ mask_iban('iban') }} as account,
    login,
    served_from,
    covered_to,
    covered_to - served_from + 1 as covered_days,
    last_read_date,
    case
        when last_read_at_utc is null then 'never read'
        else 'windows end before the day it was last read'
    end as problem
from {{ ref('dim_accounts') }}
where (last_read_at_utc is null or covered_to < last_read_date){{ for_login('login') }}
