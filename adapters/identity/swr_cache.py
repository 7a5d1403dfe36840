"""A bounded TTL cache with stale-while-revalidate, for identity lookups.

Identity data changes rarely but must not be trusted forever. An entry is *fresh* for
`stale_after` seconds (served as is), then *stale* until `expire_after` (served at once
while one background refresh runs), then *expired* (the caller waits for a new lookup).
Negative results (None) get their own, usually shorter, lifetime: a handle someone is
setting up right now should not stay "unresolvable" for an hour.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Lifetimes in seconds, and how many entries to keep."""

    stale_after: float
    expire_after: float
    negative_expire_after: float | None = None
    max_entries: int = 10_000

    def __post_init__(self) -> None:
        if not 0 <= self.stale_after <= self.expire_after:
            raise ValueError("need 0 <= stale_after <= expire_after")


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V
    stored_at: float


class SwrCache(Generic[K, V]):
    """Thread-safe; refreshes run on `executor`, at most one per key at a time."""

    def __init__(
        self,
        policy: CachePolicy,
        executor: Executor,
        *,
        clock: Callable[[], float] = time.monotonic,
        keep_on_error: Callable[[Exception], bool] = lambda exc: True,
    ) -> None:
        """`keep_on_error(exc)` decides whether a failed background refresh keeps serving
        the stale value (True: a transient failure) or drops it (False: gone for good)."""
        self.policy = policy
        self.executor = executor
        self.clock = clock
        self.keep_on_error = keep_on_error
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._refreshing: set[K] = set()
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V], *, force_refresh: bool = False) -> V:
        """The cached value if still usable (refreshing it in the background if stale),
        else `load()`'s result, stored. Exceptions from `load` propagate, nothing stored."""
        if not force_refresh:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    age = self.clock() - entry.stored_at
                    if age < self._lifetime(entry.value):
                        self._entries.move_to_end(key)
                        if age >= self.policy.stale_after and key not in self._refreshing:
                            self._refreshing.add(key)
                            self.executor.submit(self._refresh, key, load)
                        return entry.value
        value = load()
        self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        """Store a value as fresh now."""
        with self._lock:
            self._entries[key] = _Entry(value, self.clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.policy.max_entries:
                self._entries.popitem(last=False)

    def evict(self, key: K) -> None:
        """Forget `key`."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _lifetime(self, value: V) -> float:
        if value is None and self.policy.negative_expire_after is not None:
            return self.policy.negative_expire_after
        return self.policy.expire_after

    def _refresh(self, key: K, load: Callable[[], V]) -> None:
        try:
            self.put(key, load())
        except Exception as exc:
            if not self.keep_on_error(exc):
                self.evict(key)
            log.info("background identity refresh of %r failed: %s", key, exc)
        finally:
            with self._lock:
                self._refreshing.discard(key)
