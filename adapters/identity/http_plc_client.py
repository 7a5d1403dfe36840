"""`PlcClient` over HTTP, for any directory: plc.directory, a mirror, or quire's `/plc`.

The base URL may carry a path (`http://host/plc`): paths are appended to it, unlike the
TypeScript resolver, which resolves `/:did` against the URL and so drops the path. DIDs are
percent-encoded as the reference client encodes them (`encodeURIComponent`). Every answer
is size-capped and parsed strictly into domain values; anything unexpected is
`PlcUnavailable`, never a half-parsed result.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote

import httpx

from adapters.identity.safe_http import (
    AddressGuard,
    Fetched,
    OutboundError,
    guarded_client,
    request,
)
from application.ports.plc_client import (
    PlcDidDeactivated,
    PlcDidNotFound,
    PlcOperationRejected,
    PlcUnavailable,
)
from domain.plc.audit_log import LogEntry, parse_audit_log
from domain.plc.document import PlcData
from domain.plc.errors import PlcError
from domain.plc.operation import Operation, Service, parse_operation

DEFAULT_TIMEOUT: Final = 5.0
MAX_RESPONSE_BYTES: Final = 2_000_000
DEACTIVATED_PREFIX: Final = "DID not available"


class HttpPlcClient:
    """A directory at `base_url`; the operator chose it, so private addresses are allowed
    by default (pass a stricter `guard` to change that)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        guard: AddressGuard | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.client = client or guarded_client(
            guard or AddressGuard(allow_private=True), timeout=timeout
        )

    def close(self) -> None:
        """Release pooled connections."""
        self.client.close()

    def url_for(self, did: str, suffix: str = "") -> str:
        """`<base>/<did><suffix>`, the DID percent-encoded."""
        return f"{self.base_url}/{quote(did, safe='')}{suffix}"

    # -- the port ---------------------------------------------------------------------------

    def submit(self, did: str, op: Operation) -> None:
        fetched = self._call("POST", self.url_for(did), json_body=op.to_value())
        if fetched.status == 400:
            raise PlcOperationRejected(_message(fetched) or "operation rejected")
        self._check(fetched)

    def get_document(self, did: str) -> dict[str, Any]:
        value = self._get_json(self.url_for(did))
        if type(value) is not dict:
            raise PlcUnavailable("directory answered a DID document that is not an object")
        return value

    def get_data(self, did: str) -> PlcData:
        value = self._get_json(self.url_for(did, "/data"))
        try:
            return _parse_data(did, value)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlcUnavailable(f"directory answered malformed /data: {exc}") from exc

    def get_last_op(self, did: str) -> Operation:
        value = self._get_json(self.url_for(did, "/log/last"))
        try:
            return parse_operation(value)
        except PlcError as exc:
            raise PlcUnavailable(f"directory answered a malformed operation: {exc}") from exc

    def get_audit_log(self, did: str) -> tuple[LogEntry, ...]:
        value = self._get_json(self.url_for(did, "/log/audit"))
        try:
            return parse_audit_log(value)
        except PlcError as exc:
            raise PlcUnavailable(f"directory answered a malformed audit log: {exc}") from exc

    # -- plumbing ---------------------------------------------------------------------------

    def _call(self, method: str, url: str, *, json_body: Any = None) -> Fetched:
        try:
            return request(
                self.client,
                method,
                url,
                max_bytes=self.max_response_bytes,
                timeout=self.timeout,
                json_body=json_body,
                headers={"accept": "application/did+ld+json,application/json"},
            )
        except OutboundError as exc:
            raise PlcUnavailable(f"PLC directory request failed: {exc}") from exc

    def _get_json(self, url: str) -> Any:
        fetched = self._call("GET", url)
        self._check(fetched)
        try:
            return fetched.json()
        except ValueError as exc:
            raise PlcUnavailable("PLC directory answered invalid JSON") from exc

    @staticmethod
    def _check(fetched: Fetched) -> None:
        if 200 <= fetched.status < 300:
            return
        message = _message(fetched)
        if fetched.status == 410 or (
            fetched.status == 404 and message.startswith(DEACTIVATED_PREFIX)
        ):
            raise PlcDidDeactivated(message or "DID not available")
        if fetched.status == 404:
            raise PlcDidNotFound(message or "DID not registered")
        raise PlcUnavailable(f"PLC directory answered HTTP {fetched.status}: {message[:200]}")


def _message(fetched: Fetched) -> str:
    """The `message` of a directory error body, or ''."""
    try:
        value = fetched.json()
    except ValueError:
        return ""
    message = value.get("message") if isinstance(value, dict) else None
    return message if isinstance(message, str) else ""


def _parse_data(did: str, value: Any) -> PlcData:
    if type(value) is not dict or value.get("did") != did:
        raise ValueError("data is not an object for this DID")
    services = {
        name: Service(str(svc["type"]), str(svc["endpoint"]))
        for name, svc in dict(value["services"]).items()
    }
    return PlcData(
        did=did,
        rotation_keys=tuple(str(k) for k in value["rotationKeys"]),
        verification_methods={
            str(k): str(v) for k, v in dict(value["verificationMethods"]).items()
        },
        also_known_as=tuple(str(a) for a in value["alsoKnownAs"]),
        services=services,
    )
