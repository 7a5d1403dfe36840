"""The changes a `signPlcOperation` request asks for, parsed from its loosely typed input.

The lexicon types `verificationMethods` and `services` as `unknown`; the reference casts them
unchecked and lets the directory object. Here they are checked up front, so a malformed
request is a 400 naming the field, and is refused before the confirmation token is spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.identity_errors import IdentityRequestError
from domain.plc.operation import Service


@dataclass(frozen=True, slots=True)
class PlcChanges:
    """Fields to replace in the next operation; None keeps the current value."""

    rotation_keys: tuple[str, ...] | None = None
    also_known_as: tuple[str, ...] | None = None
    verification_methods: Mapping[str, str] | None = None
    services: Mapping[str, Service] | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PlcChanges:
        """Parse the optional fields of a signPlcOperation body."""
        return cls(
            rotation_keys=_strings(body.get("rotationKeys"), "rotationKeys"),
            also_known_as=_strings(body.get("alsoKnownAs"), "alsoKnownAs"),
            verification_methods=_methods(body.get("verificationMethods")),
            services=_services(body.get("services")),
        )


def _strings(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if type(value) is not list or any(type(item) is not str for item in value):
        raise IdentityRequestError(f"Input/{name} must be an array of strings")
    return tuple(value)


def _methods(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if type(value) is not dict or any(type(key) is not str for key in value.values()):
        raise IdentityRequestError("Input/verificationMethods must map ids to did:key strings")
    return dict(value)


def _services(value: Any) -> dict[str, Service] | None:
    if value is None:
        return None
    if type(value) is not dict:
        raise IdentityRequestError("Input/services must be an object")
    services: dict[str, Service] = {}
    for name, service in value.items():
        if (
            type(service) is not dict
            or set(service) != {"type", "endpoint"}
            or type(service["type"]) is not str
            or type(service["endpoint"]) is not str
        ):
            raise IdentityRequestError(f"Input/services/{name} must be {{type, endpoint}} strings")
        services[name] = Service(service["type"], service["endpoint"])
    return services
