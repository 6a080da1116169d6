-- signed_amount is +amount for a credit and -amount for a debit, in the entry's currency and in EUR.
select *
from {{ ref('stg_fibank__transactions') }}
where signed_amount <> case when direction = 'credit' then amount else -amount end
   or coalesce(signed_amount_eur, 0) <> case when direction = 'credit' then coalesce(amount_eur, 0) else -coalesce(amount_eur, 0) end
   or (currency in ('EUR', 'BGN') and amount_eur is null)
