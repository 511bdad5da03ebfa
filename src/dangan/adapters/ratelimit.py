"""Requests per key in a sliding 60-second window, kept in this process's memory.

Limitation: each worker process counts on its own, so with N workers a token can make up to
N × its limit, and a restart forgets the window. Good enough to stop a runaway connector.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from dangan.core.errors import RateLimitedError


class SlidingWindowLimiter:
    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, limit: int) -> None:
        """Count one request; raise RateLimitedError (with retry_after) over the limit."""
        if limit <= 0:
            return  # 0 = unlimited
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                retry = max(1, int(hits[0] + self.window - now + 0.999))
                raise RateLimitedError(
                    code="rate_limited",
                    zh=f"请求过于频繁：每分钟上限 {limit} 次，请 {retry} 秒后重试",
                    en=f"too many requests: limit {limit}/min; retry in {retry} s",
                    retry_after=retry,
                )
            hits.append(now)
