"""resolveLexicon over a real socket, as the Lexicon spec resolves an NSID.

The server asks a local DNS responder for `_lexicon.` TXT records (configured the way an
operator would, `QUIRE_DNS_SERVERS`/`QUIRE_DNS_PORT`). Schema records live in a repo on this
server (read locally), on a second server whose accounts are registered in this server's
PLC directory (fetched with `sync.getRecord` and verified), and on a stand-in PDS that signs
its proofs with a key its DID document does not publish.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.crypto.k256 import K256Keypair
from domain.data.tid import TidClock
from domain.repo.block_map import BlockMap
from domain.repo.car import car_bytes
from domain.repo.commit import UnsignedCommit, sign_commit
from domain.repo.mst import Mst
from tests.integration.conftest import Account, LiveServer, assert_xrpc_error, live_server
from tests.integration.dns_responder import DnsResponder
from tests.integration.live_server import serve
from tests.integration.stand_in_service import StandInService

RESOLVE = "/xrpc/com.atproto.lexicon.resolveLexicon"
SCHEMA = "com.atproto.lexicon.schema"


def schema(nsid: str) -> dict[str, Any]:
    """A minimal record lexicon for `nsid`, as a schema record."""
    record = {"type": "object", "properties": {"text": {"type": "string"}}}
    return {
        "$type": SCHEMA,
        "lexicon": 1,
        "id": nsid,
        "defs": {"main": {"type": "record", "key": "tid", "record": record}},
    }


def publish(server: LiveServer, account: Account, rkey: str, record: dict[str, Any]) -> str:
    """Put a schema record keyed by `rkey`; its CID."""
    response = server.http.post(
        "/xrpc/com.atproto.repo.putRecord",
        headers=account.auth,
        json={"repo": account.did, "collection": SCHEMA, "rkey": rkey, "record": record},
    )
    assert response.status_code == 200, response.text
    cid: str = response.json()["cid"]
    return cid


class ForgingPds(StandInService):
    """A did:web PDS serving schema records; NSIDs in `forged` are signed by a stranger."""

    SERVICE_ID = "#atproto_pds"
    SERVICE_TYPE = "AtprotoPersonalDataServer"

    def __init__(self) -> None:
        super().__init__()
        self.key, self.stranger = K256Keypair.generate(), K256Keypair.generate()
        self.forged: set[str] = set()
        self.clock = TidClock(clock_id=1)

    async def did_doc(self, request: Request) -> Response:
        response = await super().did_doc(request)
        doc = {
            **json.loads(response.body),
            "verificationMethod": [
                {
                    "id": f"{self.did}#atproto",
                    "type": "Multikey",
                    "controller": self.did,
                    "publicKeyMultibase": self.key.did().removeprefix("did:key:"),
                }
            ],
        }
        return Response(json.dumps(doc), media_type="application/json")

    async def get_record(self, request: Request) -> Response:
        nsid = request.query_params["rkey"]
        blocks = BlockMap()
        record = blocks.add(schema(nsid))  # type: ignore[arg-type]
        tree = Mst.build(blocks, [(f"{SCHEMA}/{nsid}", record)])
        blocks.update(list(tree.node_blocks()))
        unsigned = UnsignedCommit(did=self.did, data=tree.root, rev=self.clock.next(), prev=None)
        signer = self.stranger if nsid in self.forged else self.key
        commit_cid, commit = sign_commit(unsigned, signer).encode()
        car = car_bytes(commit_cid, [(commit_cid, commit), *blocks.items()])
        return Response(car, media_type="application/vnd.ipld.car")

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/did.json", self.did_doc),
                Route("/xrpc/com.atproto.sync.getRecord", self.get_record),
            ]
        )


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsResponder]:
    responder = DnsResponder()
    yield responder
    responder.close()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, dns: DnsResponder) -> Iterator[LiveServer]:
    """The server under test, asking `dns` and allowed to reach loopback PDSes."""
    with live_server(
        tmp_path_factory.mktemp("home"),
        dns_servers=("127.0.0.1",),
        dns_port=dns.port,
        allow_private_identity=True,
    ) as live:
        yield live


@pytest.fixture(scope="module")
def publisher(home: LiveServer) -> Account:
    return home.create_account("lexicons")


def authority(dns: DnsResponder, name: str, did: str) -> None:
    """Point `_lexicon.<name>` at `did`."""
    dns.txt[f"_lexicon.{name}"] = [f"did={did}"]


def test_a_schema_published_here_resolves_to_its_record(
    home: LiveServer, publisher: Account, dns: DnsResponder
) -> None:
    nsid = "test.quire.local.widget"
    authority(dns, "local.quire.test", publisher.did)
    cid = publish(home, publisher, nsid, schema(nsid))
    response = home.http.get(RESOLVE, params={"nsid": nsid})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "uri": f"at://{publisher.did}/{SCHEMA}/{nsid}",
        "cid": cid,
        "schema": schema(nsid),
    }
    assert "TXT _lexicon.local.quire.test" in dns.queries


def test_an_nsid_whose_authority_has_no_txt_record_is_lexicon_not_found(
    home: LiveServer, publisher: Account, dns: DnsResponder
) -> None:
    nsid = "test.quire.nowhere.widget"
    publish(home, publisher, nsid, schema(nsid))
    # The spec forbids walking the DNS tree: the parent's record does not count.
    authority(dns, "quire.test", publisher.did)
    response = home.http.get(RESOLVE, params={"nsid": nsid})
    body = assert_xrpc_error(response, 400, "LexiconNotFound")
    assert "_lexicon" in body["message"]


def test_a_record_defining_another_nsid_is_lexicon_not_found(
    home: LiveServer, publisher: Account, dns: DnsResponder
) -> None:
    nsid = "test.quire.liar.widget"
    authority(dns, "liar.quire.test", publisher.did)
    publish(home, publisher, nsid, schema("test.quire.liar.gadget"))
    response = home.http.get(RESOLVE, params={"nsid": nsid})
    body = assert_xrpc_error(response, 400, "LexiconNotFound")
    assert "test.quire.liar.gadget" in body["message"]


def test_an_authority_whose_repo_has_no_such_record_is_lexicon_not_found(
    home: LiveServer, publisher: Account, dns: DnsResponder
) -> None:
    authority(dns, "empty.quire.test", publisher.did)
    response = home.http.get(RESOLVE, params={"nsid": "test.quire.empty.widget"})
    assert_xrpc_error(response, 400, "LexiconNotFound")


def test_a_malformed_nsid_is_an_invalid_request(home: LiveServer) -> None:
    response = home.http.get(RESOLVE, params={"nsid": "not an nsid"})
    assert_xrpc_error(response, 400, "InvalidRequest")


def test_a_schema_on_another_pds_is_fetched_and_verified(
    home: LiveServer, dns: DnsResponder, tmp_path: Path
) -> None:
    with live_server(tmp_path / "remote", plc_url=f"{home.url}/plc") as remote:
        account = remote.create_account("remote")
        nsid = "test.quire.remote.widget"
        cid = publish(remote, account, nsid, schema(nsid))
        authority(dns, "remote.quire.test", account.did)
        assert home.services.views.get_account(account.did) is None  # not hosted here
        response = home.http.get(RESOLVE, params={"nsid": nsid})
    assert response.status_code == 200, response.text
    assert response.json()["uri"] == f"at://{account.did}/{SCHEMA}/{nsid}"
    assert response.json()["cid"] == cid


def test_a_proof_signed_by_a_key_the_did_does_not_publish_is_rejected(
    home: LiveServer, dns: DnsResponder
) -> None:
    pds = ForgingPds()
    honest, forged = "test.quire.standin.honest", "test.quire.standin.forged"
    pds.forged.add(forged)
    authority(dns, "standin.quire.test", pds.did)
    with serve(pds.app(), pds.port):
        accepted = home.http.get(RESOLVE, params={"nsid": honest})
        refused = home.http.get(RESOLVE, params={"nsid": forged})
    assert accepted.status_code == 200, accepted.text  # the same stand-in, signed rightly
    assert accepted.json()["schema"] == schema(honest)
    body = assert_xrpc_error(refused, 400, "LexiconNotFound")
    assert "not signed" in body["message"]
