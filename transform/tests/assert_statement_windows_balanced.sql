-- Every window that is still the bank's latest word adds up: opening + credits - debits = closing,
-- and the entries the bank listed add up to both turnovers (the tap's own check, is_balanced, also
-- covers the running balance). A window read again by a later run is that run's to answer for.
select *
from {{ ref('fct_statement_windows') }}
where effective_to is not null
  and (
      not is_balanced
      or opening_balance + credit_turnover - debit_turnover <> closing_balance
      or entries_debit_total <> debit_turnover
      or entries_credit_total <> credit_turnover
  )
