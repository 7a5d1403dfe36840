"""Every recorded event class has a projection (dispatch is by exact class)."""

from __future__ import annotations

from application.projection import _HANDLERS
from application.repo_host.account_aggregate import Account
from application.repo_host.repo_aggregate import Repo


def _event_classes(aggregate: type) -> set[type]:
    found = set()
    for value in vars(aggregate).values():
        if isinstance(value, type) and value.__name__ != "Event" and hasattr(value, "apply"):
            found.add(value)
    return found


def test_every_repo_and_account_event_class_has_a_projection() -> None:
    expected = _event_classes(Repo) | _event_classes(Account)
    assert expected and expected <= set(_HANDLERS)
