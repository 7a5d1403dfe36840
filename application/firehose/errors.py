"""Typed firehose errors; the WebSocket edge sends each as an error frame and closes."""

from __future__ import annotations


class FirehoseError(Exception):
    """An error frame `{op: -1}` + `{error, message}` ends the stream."""

    error = "InternalError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FutureCursor(FirehoseError):
    """The requested cursor is beyond the current seq."""

    error = "FutureCursor"


class ConsumerTooSlow(FirehoseError):
    """The subscriber's queue overflowed; it is dropped so nobody else slows down."""

    error = "ConsumerTooSlow"


class SubscriptionClosed(Exception):
    """The subscription ended without an error (client gone, server stopping)."""
