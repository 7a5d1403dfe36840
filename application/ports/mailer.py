"""Email to an account's address: the operator's messages (`com.atproto.admin.sendEmail`).

The reference PDS sends these through its moderation mailer (SMTP). This server sends no
email; the adapter decides where a message actually goes (the operator's server log).
"""

from __future__ import annotations

from typing import Protocol


class Mailer(Protocol):
    """Delivers one message; raising means it was not sent."""

    def send(self, to: str, subject: str, content: str) -> None:
        """Send `content` to the address `to` under `subject`."""
        ...
