"""Lexicon failures, split by whose fault they are.

A bad schema document (`InvalidLexicon`) is the lexicon author's problem, a missing
definition (`LexiconNotFound`) is the catalog's, and a value that does not match
(`ValidationError`) is the caller's: a PDS answers them differently (500 / fail-open / 400).
"""

from __future__ import annotations


class LexiconError(ValueError):
    """Base class of every lexicon failure."""


class InvalidLexicon(LexiconError):
    """A lexicon document (or a reference inside one) breaks the lexicon language rules."""


class LexiconNotFound(LexiconError, LookupError):
    """A definition or document the validation needs is not in the catalog."""


class ValidationError(LexiconError):
    """A value does not match its schema; `str()` reads like `Record/reply/root/uri must be ...`.

    The path is collected while the error unwinds (each container prepends its key), so a
    successful validation never builds path strings.
    """

    def __init__(self, reason: str, path: tuple[str, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self._reversed: list[str] = list(reversed(path))

    @property
    def path(self) -> tuple[str, ...]:
        """The segments from the root (`Record`, `Params`, ...) down to the failing value."""
        return tuple(reversed(self._reversed))

    def prepend(self, segment: str) -> None:
        """Record that the failure happened inside `segment` (called while unwinding)."""
        self._reversed.append(segment)

    def __str__(self) -> str:
        if not self._reversed:
            return f"Value {self.reason}"
        return f"{'/'.join(reversed(self._reversed))} {self.reason}"

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, tuple[str, ...]]]:
        return (ValidationError, (self.reason, self.path))
