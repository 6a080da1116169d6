"""The proof: one answer of the bank -> a Statement and its verdict, with no I/O.

The answer is split into entries, each value parsed or refused by name, and the window proven
against the bank's own totals (opening + credits - debits = closing, the entries add up to both
turnovers); the direction and the currency before the euro changeover follow the bank's arithmetic.
"""
