-- Each account's balance after its latest loaded entry equals what the bank says today: the
-- closing balance of its latest statement window (unless that window is unverifiable), and the
-- account list's balance (curBal) wherever the bank sends one, for accounts their login's latest run read.
-- Failing rows name the account (masked) and the balances: recent entries are missing or changed
-- (`meltano run --full-refresh`), or the account was not read lately (see the staleness tests).
with latest_run as (
    select login, max(run_started_at_utc) as run_started_at_utc
    from {{ ref('fct_statement_windows') }}
    group by login
),

balances as (
    select
        a.*,
        coalesce(a.latest_entry_balance, a.latest_window_balance) as warehouse_balance,
        coalesce(a.last_read_at_utc = r.run_started_at_utc, false) as read_in_latest_run
    from {{ ref('dim_accounts') }} as a
    left join latest_run as r
        on r.login = a.login
)

select
    {{ mask_iban('iban') }} as account,
    login,
    last_booking_date,
    covered_to,
    warehouse_balance,
    latest_window_balance,
    bank_balance
from balances
where (
    (latest_entry_balance <> latest_window_balance and latest_window_verification <> 'unverifiable')
    or (read_in_latest_run and warehouse_balance <> bank_balance)
){{ for_login('login') }}
