"""The proof: one answer of the bank -> a Statement and its verdict, with no I/O.

The answer is split into entries, each value parsed or refused by name, and the window proven
against the bank's own totals (opening + credits - debits = closing, the entries add up to both
turnovers); the direction and the currency before the euro changeover follow the bank's arithmetic.

Contract: the package does no I/O and keeps no state between calls; it imports nothing of the
walk but `walk.windows`, and nothing of the streams or the bank client, so the doctor, the walk and
the benchmarks can all use it. Its modules import one another without a cycle: columns, parsing and
changeover import none of the others; balances none; directions parsing; statement the rest.
"""
