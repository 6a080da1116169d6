"""`tap-fibank-doctor`: what the live bank answers, checked against what the tap assumes.

The protocol is reverse-engineered, and the tap never logs a response body. The doctor reads a
handful of answers (profiles, accounts, three statement windows per account, a 31-day range and
a refused token), says for each assumption of the tap whether the bank agrees, and can write a
capture of those answers with every personal value replaced, which the sandbox can replay.

Contract: the doctor never writes a RECORD or STATE, never retries the password POST and never
prints a secret or an amount; it judges with the proof's own code (the column table, the parsers,
the totals and the balance chain), so what it calls OK is what the tap reads. Its modules import
one another without a cycle: findings and statements import no other doctor module but the probe's
types; checks imports history, never the reverse.
"""
