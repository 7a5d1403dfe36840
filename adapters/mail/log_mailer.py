"""`Mailer` to the server log: this machine sends no email.

As with confirmation tokens (`adapters/identity/log_token_channel.py`), the message goes to
the `quire.operator` logger at WARNING, which reaches the server log; the operator passes it
on to the address it names.
"""

from __future__ import annotations

import logging

log = logging.getLogger("quire.operator")


class LogMailer:
    """Logs each message with its address and subject, for the operator to deliver."""

    def send(self, to: str, subject: str, content: str) -> None:
        """Write the message to the operator's log."""
        log.warning("email to %s, subject %r:\n%s", to, subject, content)
