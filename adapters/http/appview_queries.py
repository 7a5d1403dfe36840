"""`AppViewQueries` over HTTP: a query to the configured AppView as an account.

Read-after-write asks the AppView about records a new post embeds (a quoted post, a feed, a
list) and about a thread's parents. Each call carries a one-minute service token of the
account's, exactly as a proxied call does; a failure of any kind is "no answer", since the
post is shown without the embed rather than not at all.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from application.service_proxy import ProxyRefused, ServiceProxy

log = logging.getLogger("quire.proxy")


class HttpAppViewQueries:
    """GETs to the operator's default service for each method, with a service token."""

    def __init__(self, proxy: ServiceProxy, client: httpx.Client) -> None:
        self.proxy, self.client = proxy, client

    def query(self, requester: str, nsid: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The JSON answer of `nsid`, or None (no AppView configured, an error, not JSON)."""
        try:
            target = self.proxy.target(nsid, None)
            if target is None:
                return None
            token = self.proxy.token(requester, target, nsid, privileged=False)
            response = self.client.get(
                f"{target.origin}/xrpc/{nsid}",
                params=params,
                headers={"authorization": f"Bearer {token}"},
            )
        except (ProxyRefused, httpx.HTTPError) as exc:
            log.warning("AppView query %s failed: %s", nsid, exc)
            return None
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
