"""Per-account private preferences (`app.bsky.actor.getPreferences`): state beside the log.

Preferences are private to the account and change often (muted words, saved feeds); like
credentials (ADR 0004) they are not repository data, not events, and not on the firehose.
"""

from __future__ import annotations

from typing import Any, Protocol


class PreferenceStore(Protocol):
    """One JSON array per account and namespace; each method is its own transaction."""

    def get(self, did: str, namespace: str) -> list[dict[str, Any]]:
        """The stored preferences (empty when none)."""
        ...

    def put(self, did: str, namespace: str, preferences: list[dict[str, Any]]) -> None:
        """Replace the stored preferences."""
        ...
