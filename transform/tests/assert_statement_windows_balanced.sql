-- Every window that is still the bank's latest word adds up: opening + credits - debits = closing,
-- and the entries the bank listed add up to both turnovers (the tap's own check, verification,
-- also covers the running balance). A window read again by a later run is that run's to answer
-- for; an unverifiable one (the bank's summary rows missing or unreadable) proves nothing and is
-- left out. Failing rows name the account (masked) and the window: run again; if it persists,
-- the bank's statement itself does not add up.
select
    {{ mask_iban('iban') }} as account,
    date_from,
    date_to,
    verification,
    opening_balance,
    credit_turnover,
    debit_turnover,
    closing_balance,
    entries_credit_total,
    entries_debit_total
from {{ ref('fct_statement_windows') }}
where effective_to is not null
  and verification <> 'unverifiable'
  and (
      verification <> 'balanced'
      or opening_balance + credit_turnover - debit_turnover <> closing_balance
      or entries_debit_total <> debit_turnover
      or entries_credit_total <> credit_turnover
  )
