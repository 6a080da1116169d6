"""The walk: which windows are read, in what order, and when the bookmark may move.

An account's history is cut into whole Sofia-day windows, read ahead in a bounded pool and handed
on strictly in window order, so output and bookmarks are a sequential walk's. The bookmark moves
through a window only once it is read and not proven incomplete, so it never passes data that was
not emitted.

Contract: the package imports nothing on its own. Its layers, lowest first: windows, bookmarks,
chain, currency, in_order, plan and policy (pure, no shared objects); ahead, registry,
window_cache and report (the run's four shared objects, data only); run (holds them with the
client and the pool); read_ahead (reads windows); account (walks one account). A module imports
only from layers below it (tests/unit/test_layers.py checks that there is no cycle).
"""
