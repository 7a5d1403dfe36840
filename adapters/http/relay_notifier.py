"""Outbound `com.atproto.sync.requestCrawl` over HTTP, with a short timeout."""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger("quire.crawlers")


class HttpRelayNotifier:
    """POSTs `{hostname}` to `<relay>/xrpc/com.atproto.sync.requestCrawl`."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def request_crawl(self, relay: str, hostname: str) -> None:
        """Best effort; a failing relay is logged, never raised."""
        url = relay.rstrip("/") + "/xrpc/com.atproto.sync.requestCrawl"
        try:
            response = httpx.post(url, json={"hostname": hostname}, timeout=self.timeout)
            if response.status_code >= 400:
                log.warning("requestCrawl to %s answered %s", relay, response.status_code)
        except httpx.HTTPError as exc:
            log.warning("requestCrawl to %s failed: %s", relay, exc)
