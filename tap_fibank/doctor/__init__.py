"""`tap-fibank-doctor`: what the live bank answers, checked against what the tap assumes.

The protocol is reverse-engineered, and the tap never logs a response body. The doctor reads a
handful of answers (profiles, accounts, three statement windows per account, a 31-day range and
a refused token), says for each assumption of the tap whether the bank agrees, and can write a
capture of those answers with every personal value replaced, which the sandbox can replay.
"""
