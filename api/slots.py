"""A bound on the heavy analyses one server process computes at once (heat maps, Gi*, emerging patterns, exports).

A heavy analysis holds arrays of its grid (up to ~2 bytes per work unit: hundreds of MB for a Gi* at the cost
limit) and a core for up to seconds. Unbounded, memory grew with every concurrent heat or Gi* request, and the map
tiles and lists behind them waited for the CPU and for worker threads. Here at most ``limit`` analyses compute at
once; a further one waits for its turn at most ``wait_s`` seconds, and at most :data:`WAITING_PER_SLOT` per slot
wait at all (a waiting request holds one of the 40 worker threads that the light routes also need). A request
that cannot get its turn is answered 429 with a Vietnamese message (:class:`AnalysisBusy`, ``Retry-After``), never
a 500. Only a computation takes a turn: an answer in the cache is served without one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from models.errors import Busy

T = TypeVar("T")

#: Requests that may wait per slot. With the default 2 slots, 2 computing and 8 waiting leave 30 of anyio's 40 worker
#: threads to the light routes; more waiting would only queue answers that come after the user gave up anyway.
WAITING_PER_SLOT = 4


class AnalysisBusy(Busy):
    """Every slot for heavy analyses of this server process stayed taken: try again in a moment."""

    code = "analysis_busy"


class AnalysisSlots:
    """At most ``limit`` heavy computations at once in this process, each waiting at most ``wait_s`` s for its turn.

    ``running`` and ``waiting`` are the counts now (for the log and the tests)."""

    def __init__(self, limit: int, wait_s: float) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.wait_s = wait_s
        self.max_waiting = WAITING_PER_SLOT * limit
        self.running = 0
        self.waiting = 0
        self._free = threading.Semaphore(limit)
        self._lock = threading.Lock()

    def run(self, compute: Callable[[], T]) -> T:
        """``compute()`` once a slot is free; :class:`AnalysisBusy` when none frees within ``wait_s`` or too many
        requests already wait."""
        if not self._free.acquire(blocking=False):
            with self._lock:
                if self.waiting >= self.max_waiting:
                    raise self._busy()
                self.waiting += 1
            try:
                turn = self._free.acquire(timeout=self.wait_s)
            finally:
                with self._lock:
                    self.waiting -= 1
            if not turn:
                raise self._busy()
        with self._lock:
            self.running += 1
        try:
            return compute()
        finally:
            with self._lock:
                self.running -= 1
            self._free.release()

    def _busy(self) -> AnalysisBusy:
        return AnalysisBusy(
            f"máy chủ đang bận tính {self.limit} phân tích nặng khác (bản đồ nhiệt, Gi*, xu hướng, xuất tệp);"
            " vui lòng thử lại sau ít giây",
            f"all {self.limit} heavy-analysis slots of this server process stayed busy for {self.wait_s:g} s",
        )


def heavy(request: Request, compute: Callable[[], T]) -> T:
    """``compute()`` in one of the app's slots for heavy analyses (``app.state.analysis_slots``)."""
    slots: AnalysisSlots = request.app.state.analysis_slots
    return slots.run(compute)
