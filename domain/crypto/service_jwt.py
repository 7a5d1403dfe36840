"""Inter-service auth tokens: JWTs an account signs with its repo signing key.

`com.atproto.server.getServiceAuth` hands these to a client, which presents them to another
service (a video service, a new PDS during migration, a feed generator). The receiver checks
the signature against the signing key in the issuer's DID document, `aud` against its own
DID, `exp`, and `lxm` (the one XRPC method the token is good for) against the method called.

Form, as the reference's `createServiceJwt` writes it: header `{"typ": "JWT", "alg": ...}`
(ES256K or ES256 by key type), payload `{iat, iss, aud, exp, lxm?, jti}`, and the compact
low-S signature over the ASCII `header.payload`, all unpadded base64url.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Protocol

from domain.crypto.keys import verify_signature


class JwtSigner(Protocol):
    """What issuing needs of a keypair."""

    @property
    def jwt_alg(self) -> str:
        """ES256K or ES256."""
        ...

    def sign(self, msg: bytes) -> bytes:
        """Compact 64-byte low-S signature of sha-256(`msg`)."""
        ...


@dataclass(frozen=True, slots=True)
class ServiceClaims:
    """The payload of a service token."""

    iss: str
    aud: str
    iat: int
    exp: int
    jti: str
    lxm: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The payload object, `lxm` only when bound to a method."""
        payload: dict[str, Any] = {"iat": self.iat, "iss": self.iss, "aud": self.aud}
        payload["exp"] = self.exp
        if self.lxm is not None:
            payload["lxm"] = self.lxm
        payload["jti"] = self.jti
        return payload


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def sign_service_jwt(keypair: JwtSigner, claims: ServiceClaims) -> str:
    """The compact JWT for `claims`, signed by `keypair`."""
    header = _b64(_json({"typ": "JWT", "alg": keypair.jwt_alg}))
    signing_input = f"{header}.{_b64(_json(claims.to_json()))}"
    return f"{signing_input}.{_b64(keypair.sign(signing_input.encode('ascii')))}"


MAX_TOKEN_LENGTH = 8192
"""Service tokens are a few hundred bytes; anything longer is refused before parsing."""


class MalformedServiceJwt(ValueError):
    """Not three base64url segments of a JSON header and payload."""


def read_service_jwt(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a token, without checking its signature."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise MalformedServiceJwt("token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedServiceJwt("a JWT has three segments")
    try:
        header, payload = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise MalformedServiceJwt("header and payload must be base64url JSON") from exc
    if type(header) is not dict or type(payload) is not dict:
        raise MalformedServiceJwt("header and payload must be JSON objects")
    return header, payload


def verify_service_jwt(token: str, did_key: str) -> bool:
    """Is `token` signed by the key `did_key` (a `did:key:`)? Malformed tokens are not.

    As `verify_signature`: a did:key that cannot be parsed raises, it is not a forgery.
    """
    try:
        read_service_jwt(token)
        signing_input, _, encoded_sig = token.rpartition(".")
        sig = _unb64(encoded_sig)
        message = signing_input.encode("ascii")
    except (MalformedServiceJwt, binascii.Error, UnicodeEncodeError):
        return False
    return verify_signature(did_key, message, sig)
