"""Every XRPC method, fed hypothesis-generated garbage over a real socket.

For each `com.atproto.*` method in the lexicons (served here or left to the proxy) and the
preferences methods, requests carry random parameters and bodies built from the method's
own parameter and input property names, random JSON values and values that reach deeper
(the account's DID and handle, record URIs, CIDs), under no auth, the account's token, the
admin password or a garbage token. Whatever the input: never a 500, never a stack trace,
every error an XRPC `{error, message}` body. `importRepo` also gets damaged copies of a
real repo CAR (flipped bytes, cuts, splices): each is a 400 that leaves the seq where it was.
Afterwards the views still equal a replay of the log and every commit in it audits clean:
bad input never corrupted stored data.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.storage.scratch_view_store import ScratchViewStore
from application.audit.auditor import audit_log
from application.audit.replay import replay
from tests.integration.conftest import Account, LiveServer, live_server

ADMIN = "fuzz-admin-secret"
LEXICONS = Path(__file__).resolve().parents[2] / "lexicons"
_JSON_CONTENT = {"content-type": "application/json"}
EXTRA = ("app/bsky/actor/getPreferences.json", "app/bsky/actor/putPreferences.json")


def _methods() -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """(nsid, query|procedure, parameter names, JSON input property names) of each method."""
    files = sorted((LEXICONS / "com" / "atproto").rglob("*.json"))
    files += [LEXICONS / name for name in EXTRA]
    found = []
    for path in files:
        doc = json.loads(path.read_text())
        main = doc.get("defs", {}).get("main", {})
        kind = main.get("type")
        if kind not in ("query", "procedure"):
            continue
        params = tuple(main.get("parameters", {}).get("properties", {}))
        schema = main.get("input", {}).get("schema", {})
        props = tuple(schema.get("properties", {})) if schema.get("type") == "object" else ()
        found.append((doc["id"], kind, params, props))
    return found


METHODS = _methods()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with the admin methods open (to the password) and no rate limits."""
    with live_server(
        tmp_path_factory.mktemp("fuzz-pds"), admin_password=ADMIN, rate_limits=False
    ) as live:
        yield live


def _reaching(server: LiveServer, account: Account) -> st.SearchStrategy[Any]:
    """Values that pass the first checks and reach deeper code."""
    head = server.head(account.did)
    return st.sampled_from(
        [
            account.did,
            account.handle,
            head,
            "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa",
            "did:web:localhost",
            f"at://{account.did}/app.bsky.feed.post/3kabcdefghij2",
            "app.bsky.feed.post",
            "3kabcdefghij2",
            "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
            "2024-01-01T00:00:00Z",
            "",
            "\x00",
            "../../etc/passwd",
            "a" * 3000,
        ]
    )


def _json(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    scalar = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
        | st.sampled_from(["\ud800", "half \udfff pair", "\U0001f600"])  # lone halves, a pair
        | leaves
    )
    return st.recursive(
        scalar,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["$type", "$link", "text", "uri", "cid"]) | st.text(max_size=6),
                inner,
                max_size=3,
            )
        ),
        max_leaves=6,
    )


def _headers(kind: str, account: Account) -> dict[str, str]:
    return {
        "none": {},
        "user": account.auth,
        "admin": {"authorization": "Basic " + base64.b64encode(f"admin:{ADMIN}".encode()).decode()},
        "garbage": {"authorization": "Bearer not.a.jwt"},
    }[kind]


def _check_answer(response: httpx.Response, nsid: str) -> None:
    status = response.status_code
    assert status < 500 or status == 501, (nsid, status, response.text[:500])
    assert "Traceback" not in response.text, (nsid, response.text[:500])
    if status >= 400:
        body = response.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str), (nsid, body)
        assert isinstance(body.get("message", ""), str), (nsid, body)


@pytest.mark.parametrize(("nsid", "kind", "params", "props"), METHODS, ids=[m[0] for m in METHODS])
def test_garbage_in_is_a_typed_error_out(
    fuzz_server: LiveServer,
    nsid: str,
    kind: str,
    params: tuple[str, ...],
    props: tuple[str, ...],
) -> None:
    account = fuzz_server.create_account("fuzz")
    values = _json(_reaching(fuzz_server, account))
    names = st.sampled_from((*params, "cursor", "limit", "x")) if params else st.just("x")
    query = st.dictionaries(
        names, st.text(max_size=12) | _reaching(fuzz_server, account).map(str), max_size=4
    )
    body = st.fixed_dictionaries({}, optional=dict.fromkeys(props, values)) if props else values
    auth = st.sampled_from(["none", "user", "admin", "garbage"])

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(query=query, body=body | values, auth=auth)
    def exchange(query: dict[str, str], body: Any, auth: str) -> None:
        headers = _headers(auth, account)
        url = f"/xrpc/{nsid}"
        if kind == "query":
            response = fuzz_server.http.get(url, params=query, headers=headers)
        else:
            # ASCII JSON, as many clients send it: a lone surrogate travels as its escape
            content = json.dumps(body).encode()
            headers = {**headers, **_JSON_CONTENT}
            response = fuzz_server.http.post(url, params=query, content=content, headers=headers)
        _check_answer(response, nsid)

    exchange()


def _mutations(car: bytes) -> st.SearchStrategy[bytes]:
    """A real repo CAR, damaged: a flipped byte, a cut, a spliced run, or plain noise."""
    positions = st.integers(min_value=0, max_value=len(car) - 1)
    flipped = st.tuples(positions, st.integers(1, 255)).map(
        lambda p: car[: p[0]] + bytes([car[p[0]] ^ p[1]]) + car[p[0] + 1 :]
    )
    cut = positions.map(lambda i: car[:i])
    spliced = st.tuples(positions, st.binary(min_size=1, max_size=40)).map(
        lambda p: car[: p[0]] + p[1] + car[p[0] :]
    )
    return flipped | cut | spliced | st.binary(max_size=200)


def test_damaged_cars_are_refused_by_import_repo_and_leave_the_log_alone(
    fuzz_server: LiveServer,
) -> None:
    account = fuzz_server.create_account("importer")
    for n in range(3):
        created = fuzz_server.http.post(
            "/xrpc/com.atproto.repo.createRecord",
            headers=account.auth,
            json={"repo": account.did, "collection": "com.example.note", "record": {"n": n}},
        )
        assert created.status_code == 200, created.text
    car = fuzz_server.http.get(
        "/xrpc/com.atproto.sync.getRepo", params={"did": account.did}
    ).content

    @settings(max_examples=60, deadline=None, database=None)
    @given(body=_mutations(car))
    def import_damaged(body: bytes) -> None:
        before = fuzz_server.seq()
        response = fuzz_server.http.post(
            "/xrpc/com.atproto.repo.importRepo",
            headers={**account.auth, "content-type": "application/vnd.ipld.car"},
            content=body,
        )
        _check_answer(response, "com.atproto.repo.importRepo")
        if response.status_code != 200:  # a byte that changes nothing checked may still import
            assert fuzz_server.seq() == before
            assert response.status_code == 400

    import_damaged()


def test_the_embedded_plc_directory_refuses_garbage_operations(fuzz_server: LiveServer) -> None:
    """The PLC directory API (mounted at /plc) answers bad operations with 400s, never 500s."""
    account = fuzz_server.create_account("plcfuzz")
    dids = st.sampled_from([account.did, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:web:x", "nope"])
    op_fields = ("type", "rotationKeys", "verificationMethods", "alsoKnownAs", "services",
                 "prev", "sig")  # fmt: skip
    values = _json(_reaching(fuzz_server, account))
    ops = st.fixed_dictionaries({}, optional=dict.fromkeys(op_fields, values)) | values

    @settings(max_examples=60, deadline=None, database=None)
    @given(did=dids, op=ops, path=st.sampled_from(["", "/log", "/log/audit", "/log/last", "/data"]))
    def submit(did: str, op: Any, path: str) -> None:
        posted = fuzz_server.http.post(
            f"/plc/{did}", content=json.dumps(op).encode(), headers=_JSON_CONTENT
        )
        assert posted.status_code in (400, 404), (posted.status_code, posted.text[:300])
        assert "Traceback" not in posted.text
        read = fuzz_server.http.get(f"/plc/{did}{path}")
        assert read.status_code in (200, 400, 404, 410), (read.status_code, read.text[:300])

    submit()
    document = fuzz_server.http.get(f"/plc/{account.did}")
    assert document.status_code == 200 and document.json()["id"] == account.did


def test_after_the_fuzz_views_equal_a_replay_and_the_log_audits_clean(
    fuzz_server: LiveServer, tmp_path: Path
) -> None:
    services = fuzz_server.services
    assert fuzz_server.seq() > 0
    scratch = ScratchViewStore(tmp_path / "scratch.sqlite")
    try:
        report = replay(services.host, scratch, services.store.live_digests(), scratch.digests())
    finally:
        scratch.close()
    assert report.ok, report.differences
    assert not audit_log(services.host).failures
