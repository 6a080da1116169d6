"""The walk: which windows are read, in what order, and when the bookmark may move.

An account's history is cut into whole Sofia-day windows, read ahead in a bounded pool and handed
on strictly in window order, so output and bookmarks are a sequential walk's. The bookmark moves
through a window only once it is read and not proven incomplete, so it never passes data that was
not emitted.
"""
