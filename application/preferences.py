"""`app.bsky.actor.getPreferences` / `putPreferences`, kept by the PDS as the reference does.

The Bluesky app reads these right after login and they never go to the AppView. Only
`app.bsky.actor.defs#...` preferences are accepted (the lexicon's union, checked at the edge);
an app-password session cannot write the personal-details preference (birth date), as in the
reference, and whatever it leaves out of a write of that kind is kept.
"""

from __future__ import annotations

from typing import Any

from application.identity_errors import IdentityRequestError
from application.ports.preferences import PreferenceStore

NAMESPACE = "app.bsky"
PREFIX = "app.bsky.actor.defs#"
FULL_ACCESS_ONLY = frozenset({f"{PREFIX}personalDetailsPref"})


class Preferences:
    """Read and replace an account's `app.bsky` preferences."""

    def __init__(self, store: PreferenceStore) -> None:
        self.store = store

    def get(self, did: str, *, full_access: bool = True) -> list[dict[str, Any]]:
        """The stored preferences (an app-password session does not see the full-access ones)."""
        stored = self.store.get(did, NAMESPACE)
        if full_access:
            return stored
        return [p for p in stored if p.get("$type") not in FULL_ACCESS_ONLY]

    def put(self, did: str, preferences: Any, *, full_access: bool = True) -> None:
        """Replace the preferences (the full-access ones survive an app-password write)."""
        if type(preferences) is not list:
            raise IdentityRequestError("Input/preferences must be an array")
        for pref in preferences:
            kind = pref.get("$type") if type(pref) is dict else None
            if type(kind) is not str or not kind.startswith(PREFIX):
                raise IdentityRequestError(f"Some preferences are not in the {NAMESPACE} namespace")
            if not full_access and kind in FULL_ACCESS_ONLY:
                raise IdentityRequestError(f"Do not have authorization to set preferences: {kind}")
        if not full_access:
            kept = [p for p in self.store.get(did, NAMESPACE) if p.get("$type") in FULL_ACCESS_ONLY]
            preferences = [*preferences, *kept]
        self.store.put(did, NAMESPACE, preferences)
