"""Fetching an account's statement windows ahead of the stream, in order.

The bank's latency, not the tap's CPU, dominates a first sync (decades in 30-day windows). A
bounded pool fetches and checks the next windows while earlier ones are emitted; results are
handed over strictly in window order, so the emitted rows and the bookmark are exactly those of
a sequential walk. At most `depth` windows are in flight or waiting per account, so memory stays
flat however long the history.

Contract: `fetch_in_order` starts windows through the callable it is given and yields
(window, future) pairs in plan order; it knows nothing of the bank or the account.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TypeVar

from tap_fibank.walk.windows import Window

T = TypeVar("T")


def fetch_in_order(
    windows: Iterable[Window],
    start: Callable[[Window], Future[T]],
    depth: int,
    drained: Callable[[], None] | None = None,
) -> Iterator[tuple[Window, Future[T]]]:
    """Yield each window with its finished future, in window order, keeping `depth` started ahead.

    `start` begins a window's read (in a pool, or hands over one already begun) and returns its
    future.
    `drained` is called once every window has been submitted: the pool's workers are about to
    run out of this account's work, and can start on the next account's.
    Closing the iterator (the consumer stopped, e.g. the account failed) cancels what is queued.
    """
    pending: deque[tuple[Window, Future[T]]] = deque()
    source = iter(windows)
    try:
        for window in source:
            pending.append((window, start(window)))
            if len(pending) >= max(depth, 1):
                break
        while pending:
            window, future = pending.popleft()
            future.exception()  # wait for it; the consumer reads result() or the error
            next_window = next(source, None)
            if next_window is not None:
                pending.append((next_window, start(next_window)))
            elif drained is not None:
                drained()
                drained = None
            yield window, future
    finally:
        for _, future in pending:
            future.cancel()
