"""Token buckets and the crawler interval, with an injected clock."""

from __future__ import annotations

import pytest

from adapters.http.rate_limit import AccountWriteLimiter, Limit, TokenBuckets, headers
from adapters.http.xrpc_errors import XrpcError
from application.crawlers import Crawlers


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refuses_past_its_points_then_refills_over_the_window() -> None:
    clock = Clock()
    buckets = TokenBuckets(Limit(3, 30), clock)
    assert [buckets.take("ip")[0] for _ in range(4)] == [True, True, True, False]
    clock.now = 10.0  # one point back (3 per 30 s)
    assert buckets.take("ip")[0] is True
    assert buckets.take("ip")[0] is False
    assert buckets.take("other-ip")[0] is True


def test_headers_report_limit_remaining_reset_and_policy() -> None:
    limit = Limit(3000, 300)
    assert headers(limit, 2999.4, 0.2) == {
        "RateLimit-Limit": "3000",
        "RateLimit-Remaining": "2999",
        "RateLimit-Reset": "1",
        "RateLimit-Policy": "3000;w=300",
    }


def test_account_writes_cost_points_by_action_and_429_when_spent() -> None:
    limiter = AccountWriteLimiter(Limit(7, 3600), Limit(100, 86400))
    limiter.charge("did:plc:a", ["create", "create"])  # 6 points
    with pytest.raises(XrpcError) as refused:
        limiter.charge("did:plc:a", ["update"])  # 2 more would be 8 > 7
    assert refused.value.status == 429 and refused.value.error == "RateLimitExceeded"
    limiter.charge("did:plc:a", ["delete"])  # 1 point still fits
    limiter.charge("did:plc:b", ["create", "create"])


class Notifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def request_crawl(self, relay: str, hostname: str) -> None:
        self.sent.append((relay, hostname))


def test_crawlers_are_due_at_most_once_per_interval() -> None:
    clock = Clock()
    crawlers = Crawlers(("https://relay.one", "https://relay.two"), "pds.test", Notifier(),
                        min_interval=1200, clock=clock)  # fmt: skip
    assert crawlers.due() == ["https://relay.one", "https://relay.two"]
    clock.now = 600
    assert crawlers.due() == []
    clock.now = 1200
    assert crawlers.due() == ["https://relay.one", "https://relay.two"]
