"""Token-bucket rate limits with `RateLimit-*` headers, per client IP and per account.

Buckets live in process memory: with several processes each enforces its share, which is what
the reference PDS does without Redis. Limits are configurable; a refused request gets 429
`RateLimitExceeded` and the standard headers, and never reaches the application.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.xrpc_errors import XrpcError, error_response

MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Limit:
    """`points` per `window` seconds (the bucket refills continuously)."""

    points: int
    window: float

    @property
    def policy(self) -> str:
        """The `RateLimit-Policy` header value."""
        return f"{self.points};w={int(self.window)}"


class TokenBuckets:
    """One bucket per key; least recently used keys are forgotten beyond `MAX_KEYS`."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> tuple[bool, float, float]:
        """Spend `cost`; returns (allowed, remaining, seconds until full)."""
        rate = self.limit.points / self.limit.window
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.limit.points), now))
            tokens = min(self.limit.points, tokens + (now - last) * rate)
            allowed = tokens >= cost
            if allowed:
                tokens -= cost
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
        reset = (self.limit.points - tokens) / rate
        return allowed, tokens, reset


def headers(limit: Limit, remaining: float, reset: float) -> dict[str, str]:
    """The `RateLimit-*` headers."""
    return {
        "RateLimit-Limit": str(limit.points),
        "RateLimit-Remaining": str(max(0, int(remaining))),
        "RateLimit-Reset": str(int(reset + 0.999)),
        "RateLimit-Policy": limit.policy,
    }


class IpRateLimitMiddleware:
    """Per-IP limit on every `/xrpc/` request."""

    def __init__(self, app: ASGIApp, limit: Limit) -> None:
        self.app = app
        self.buckets = TokenBuckets(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/xrpc/"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("unknown", 0)
        allowed, remaining, reset = self.buckets.take(client[0])
        extra = headers(self.buckets.limit, remaining, reset)
        if not allowed:
            response = error_response(429, "RateLimitExceeded", "Rate Limit Exceeded")
            response.headers.update(extra)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccountWriteLimiter:
    """Points per account for repo writes, as the reference PDS counts them."""

    COSTS = {"create": 3.0, "update": 2.0, "put": 2.0, "delete": 1.0}

    def __init__(self, hourly: Limit, daily: Limit) -> None:
        self.hourly = TokenBuckets(hourly)
        self.daily = TokenBuckets(daily)

    def charge(self, did: str, actions: list[str]) -> None:
        """Spend the writes' points or raise a 429 `RateLimitExceeded`."""
        cost = sum(self.COSTS.get(action, 1.0) for action in actions)
        for buckets in (self.hourly, self.daily):
            allowed, _remaining, reset = buckets.take(did, cost)
            if not allowed:
                raise XrpcError(
                    429, "RateLimitExceeded", f"Write rate limit exceeded; retry in {int(reset)}s"
                )


class RateLimitedCommitter:
    """A committer that charges the account's write points before queueing the commit."""

    def __init__(self, committer: Any, limiter: AccountWriteLimiter) -> None:
        self.committer = committer
        self.limiter = limiter

    def submit(self, did: str, writes: list[Any], swap_commit: Any = None) -> Any:
        """Charge, then submit (a 429 is raised before anything is queued)."""
        self.limiter.charge(did, [write.action for write in writes])
        return self.committer.submit(did, writes, swap_commit)

    async def commit(self, did: str, writes: list[Any], swap_commit: Any = None) -> Any:
        """Charge, then commit from the event loop (a 429 is raised before anything is queued)."""
        self.limiter.charge(did, [write.action for write in writes])
        return await self.committer.commit(did, writes, swap_commit)
