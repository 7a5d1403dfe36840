"""The rules behind the identity endpoints, over fakes: handle policy, confirmation tokens and
the parsing of requested PLC changes."""

from __future__ import annotations

import pytest

from application.handle_policy import HandlePolicy
from application.identity_errors import IdentityRequestError
from application.operator_tokens import TOKEN_TTL, OperatorTokens
from application.plc_changes import PlcChanges
from application.ports.operator_tokens import TokenRecord
from application.reserved_handles import ReservedHandles
from application.views import AccountRow
from domain.plc.operation import Service
from tests.fakes.credentials import FakeClock

ALICE = "did:plc:" + "a" * 24
BOB = "did:plc:" + "b" * 24


class Owners:
    def __init__(self, **handles: str) -> None:
        self.handles = {h.replace("_", "."): did for h, did in handles.items()}

    def get_account_by_handle(self, handle: str) -> AccountRow | None:
        did = self.handles.get(handle)
        return None if did is None else AccountRow(did, handle, None, "active", "did:key:z")


class Resolver:
    def __init__(self, answers: dict[str, str]) -> None:
        self.answers, self.asked = answers, 0

    def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
        self.asked += 1
        assert force_refresh, "an update must not trust a cached answer"
        return self.answers.get(handle)


def policy(resolver: Resolver | None = None) -> HandlePolicy:
    return HandlePolicy(Owners(alice_test=ALICE, bob_test=BOB), resolver, ("test", ".pds.dev"))


def refusal(fn: object, *args: str) -> str:
    with pytest.raises(IdentityRequestError) as caught:
        fn(*args)  # type: ignore[operator]
    return caught.value.error


# -- handle policy ----------------------------------------------------------------------------


def test_a_free_handle_under_a_served_domain_is_normalized_and_accepted() -> None:
    assert policy().check_update(ALICE, "  NewName.Test ") == "newname.test"
    assert policy().check_update(ALICE, "carol.pds.dev") == "carol.pds.dev"


class ReservedSet:
    """`ReservedHandleStore` in a dict."""

    def __init__(self) -> None:
        self.handles: dict[str, str] = {}

    def add(self, handle: str, reserved_at: str) -> None:
        self.handles.setdefault(handle, reserved_at)

    def remove(self, handle: str) -> bool:
        return self.handles.pop(handle, None) is not None

    def contains(self, handle: str) -> bool:
        return handle in self.handles


def test_a_reserved_handle_is_refused_unless_the_operator_or_its_holder_takes_it() -> None:
    reserved = ReservedHandles(ReservedSet(), FakeClock())
    for handle in (" Kept.Test ", "alice.test"):
        reserved.reserve(handle)
    rules = HandlePolicy(Owners(alice_test=ALICE), None, ("test",), reserved)
    assert refusal(rules.check_update, BOB, "KEPT.test") == "HandleNotAvailable"
    assert rules.check_update(BOB, "kept.test", allow_reserved=True) == "kept.test"
    assert rules.check_update(ALICE, "alice.test") == "alice.test"  # held before it was reserved
    assert rules.check_update(BOB, "other.test") == "other.test"
    assert reserved.release(" KEPT.test") and not reserved.release("kept.test")
    assert rules.check_update(BOB, "kept.test") == "kept.test"  # released: anyone's again
    assert refusal(reserved.reserve, "not a handle") == "InvalidRequest"


def test_the_accounts_own_handle_is_accepted_but_anothers_is_not() -> None:
    assert policy().check_update(ALICE, "alice.test") == "alice.test"
    assert refusal(policy().check_update, ALICE, "bob.test") == "HandleNotAvailable"


@pytest.mark.parametrize(
    "handle", ["no spaces.test", "ab.test", "a.b.test", "x" * 19 + ".test", "me.onion", "me.local"]
)
def test_malformed_short_long_nested_or_reserved_tld_handles_are_invalid(handle: str) -> None:
    assert refusal(policy().check_update, ALICE, handle) == "InvalidHandle"


def test_an_external_handle_must_resolve_to_the_accounts_did() -> None:
    resolver = Resolver({"alice.example.org": ALICE, "bob.example.org": BOB})
    assert policy(resolver).check_update(ALICE, "alice.example.org") == "alice.example.org"
    assert refusal(policy(resolver).check_update, ALICE, "bob.example.org") == "InvalidRequest"
    assert refusal(policy(resolver).check_update, ALICE, "nobody.example.org") == "InvalidRequest"


def test_without_a_resolver_external_handles_are_refused() -> None:
    assert refusal(policy(None).check_update, ALICE, "alice.example.org") == "InvalidRequest"


def test_a_taken_external_handle_is_refused_before_any_lookup() -> None:
    owners = Owners(alice_example_org=BOB)
    resolver = Resolver({"alice.example.org": ALICE})
    rules = HandlePolicy(owners, resolver, ("test",))
    assert refusal(rules.check_update, ALICE, "alice.example.org") == "HandleNotAvailable"
    assert resolver.asked == 0


# -- confirmation tokens ----------------------------------------------------------------------


class Store:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], TokenRecord] = {}

    def put(self, did: str, purpose: str, digest: str, expires_at: int) -> None:
        self.rows[(did, purpose)] = TokenRecord(digest, expires_at)

    def get(self, did: str, purpose: str) -> TokenRecord | None:
        return self.rows.get((did, purpose))

    def take(self, did: str, purpose: str, digest: str) -> bool:
        row = self.rows.get((did, purpose))
        if row is None or row.digest != digest:
            return False
        del self.rows[(did, purpose)]
        return True

    def find(self, purpose: str, digest: str) -> str | None:
        rows = self.rows.items()
        found = [did for (did, p), row in rows if p == purpose and row.digest == digest]
        return found[0] if found else None

    def delete_all(self, did: str) -> None:
        self.rows = {key: row for key, row in self.rows.items() if key[0] != did}


class Channel:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def deliver(self, did: str, handle: str, purpose: str, token: str, expires_at: int) -> None:
        self.sent.append((did, token))

    @property
    def last(self) -> str:
        return self.sent[-1][1]


@pytest.fixture
def world() -> tuple[OperatorTokens, Store, Channel, FakeClock]:
    store, channel, clock = Store(), Channel(), FakeClock()
    return OperatorTokens(store, channel, clock), store, channel, clock


def test_tokens_are_delivered_in_the_reference_shape_and_stored_only_as_digests(
    world: tuple[OperatorTokens, Store, Channel, FakeClock],
) -> None:
    tokens, store, channel, clock = world
    tokens.issue(ALICE, "alice.test", "plc_operation")
    token = channel.last
    assert len(token) == 11 and token[5] == "-" and token == token.upper()
    record = store.rows[(ALICE, "plc_operation")]
    assert token not in record.digest
    assert record.expires_at == clock.now + TOKEN_TTL


def test_a_token_works_once_case_insensitively_and_only_for_its_did(
    world: tuple[OperatorTokens, Store, Channel, FakeClock],
) -> None:
    tokens, _, channel, _ = world
    tokens.issue(ALICE, "alice.test", "plc_operation")
    assert refusal(tokens.check, BOB, "plc_operation", channel.last) == "InvalidToken"
    record = tokens.check(ALICE, "plc_operation", channel.last.lower())
    tokens.spend(ALICE, "plc_operation", record)
    assert refusal(tokens.check, ALICE, "plc_operation", channel.last) == "InvalidToken"
    with pytest.raises(IdentityRequestError):
        tokens.spend(ALICE, "plc_operation", record)  # a concurrent second use loses


def test_a_token_expires_after_fifteen_minutes(
    world: tuple[OperatorTokens, Store, Channel, FakeClock],
) -> None:
    tokens, _, channel, clock = world
    tokens.issue(ALICE, "alice.test", "plc_operation")
    clock.advance(TOKEN_TTL - 1)
    tokens.check(ALICE, "plc_operation", channel.last)
    clock.advance(1)
    assert refusal(tokens.check, ALICE, "plc_operation", channel.last) == "ExpiredToken"


def test_forget_drops_outstanding_tokens(
    world: tuple[OperatorTokens, Store, Channel, FakeClock],
) -> None:
    tokens, _, channel, _ = world
    tokens.issue(ALICE, "alice.test", "plc_operation")
    tokens.forget(ALICE)
    assert refusal(tokens.check, ALICE, "plc_operation", channel.last) == "InvalidToken"


# -- requested PLC changes --------------------------------------------------------------------


def test_absent_fields_keep_their_current_values() -> None:
    assert PlcChanges.from_json({"token": "x"}) == PlcChanges()


def test_present_fields_are_parsed_into_operation_values() -> None:
    changes = PlcChanges.from_json(
        {
            "rotationKeys": ["did:key:a"],
            "alsoKnownAs": [],
            "verificationMethods": {"atproto": "did:key:b"},
            "services": {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": "e"}},
        }
    )
    assert changes.rotation_keys == ("did:key:a",)
    assert changes.also_known_as == ()
    assert changes.verification_methods == {"atproto": "did:key:b"}
    assert changes.services == {"atproto_pds": Service("AtprotoPersonalDataServer", "e")}


@pytest.mark.parametrize(
    "body",
    [
        {"rotationKeys": "did:key:a"},
        {"alsoKnownAs": [1]},
        {"verificationMethods": ["did:key:a"]},
        {"verificationMethods": {"atproto": 1}},
        {"services": {"atproto_pds": "https://pds"}},
        {"services": {"atproto_pds": {"type": "T"}}},
        {"services": {"atproto_pds": {"type": "T", "endpoint": "e", "extra": "x"}}},
    ],
)
def test_malformed_changes_are_refused_as_invalid_requests(body: dict[str, object]) -> None:
    assert refusal(PlcChanges.from_json, body) == "InvalidRequest"  # type: ignore[arg-type]
