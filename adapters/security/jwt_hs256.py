"""`TokenSigner` as HS256 compact JWTs, written out by hand to keep the accepted forms narrow.

Only what this server itself issues is accepted: exactly three canonical base64url segments,
a header of `alg: HS256` and the expected `typ` (no `crit`, no other algorithm, ever), a JSON
object payload with an integer `exp`. Any deviation is `InvalidToken`; the one other outcome
is `ExpiredToken`, reported only once the signature has been checked.

Every authenticated request presents the same access token for up to two hours, so the
outcome of the checks that do not depend on the time (signature, form, header, JSON) is
remembered per token; `exp` and `nbf` are checked against the clock on every call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from application.auth_errors import ExpiredToken, InvalidToken

MAX_TOKEN_LENGTH = 8192
MIN_SECRET_BYTES = 32
VERIFIED_CACHE_SIZE = 4096
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token whose signature, header and claims were found well-formed: all but the time."""

    typ: str
    claims: dict[str, object]
    exp: int
    nbf: int | None


class HS256Signer:
    """Signs and checks JWTs with one server secret (the reference's `PDS_JWT_SECRET`)."""

    def __init__(
        self,
        secret: bytes,
        *,
        clock: Callable[[], float] = time.time,
        leeway: int = 5,
    ) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"JWT secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._clock = clock
        self._leeway = leeway
        self._verified: dict[str, _Verified] = {}
        self._verified_lock = threading.Lock()

    def issue(self, claims: Mapping[str, object], typ: str) -> str:
        """A compact JWT with header `{"alg": "HS256", "typ": typ}`."""
        header = _b64(_json({"alg": "HS256", "typ": typ}))
        payload = _b64(_json(dict(claims)))
        signing_input = f"{header}.{payload}"
        return f"{signing_input}.{_b64(self._mac(signing_input))}"

    def verify(
        self, token: str, expected_typ: str, *, allow_expired: bool = False
    ) -> dict[str, object]:
        """The claims of a genuine, unexpired token of type `expected_typ`."""
        verified = self._verified.get(token) if isinstance(token, str) else None
        if verified is None:
            verified = self._check(token, expected_typ)
            self._remember(token, verified)
        elif verified.typ != expected_typ:
            raise InvalidToken("Wrong token type")
        now = self._clock()
        if verified.nbf is not None and verified.nbf > now + self._leeway:
            raise InvalidToken("Token is not yet valid")
        if not allow_expired and verified.exp <= now - self._leeway:
            raise ExpiredToken()
        return dict(verified.claims)

    def _check(self, token: str, expected_typ: str) -> _Verified:
        """Every check that does not depend on the time, in the order errors are reported."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken()
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("Malformed token")
        header_raw, payload_raw, signature = (_unb64(part) for part in parts)
        if not hmac.compare_digest(signature, self._mac(f"{parts[0]}.{parts[1]}")):
            raise InvalidToken()
        header = _object(header_raw)
        if header.get("alg") != "HS256" or "crit" in header:
            raise InvalidToken("Unsupported token algorithm")
        if header.get("typ") != expected_typ:
            raise InvalidToken("Wrong token type")
        claims = _object(payload_raw)
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise InvalidToken("Malformed token")
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, int) or isinstance(nbf, bool)):
            raise InvalidToken("Token is not yet valid")
        return _Verified(expected_typ, claims, exp, nbf)

    def _remember(self, token: str, verified: _Verified) -> None:
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = verified

    def _mac(self, signing_input: str) -> bytes:
        return hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()


def _json(value: dict[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(segment: str) -> bytes:
    """Strict base64url: its alphabet only, no padding, and the one canonical spelling."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise InvalidToken("Malformed token")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("Malformed token") from exc
    if _b64(data) != segment:  # non-zero trailing bits: another spelling of the same bytes
        raise InvalidToken("Malformed token")
    return data


def _object(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidToken("Malformed token") from exc
    if not isinstance(value, dict):
        raise InvalidToken("Malformed token")
    return value
