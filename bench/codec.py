"""Codec and crypto throughput, each beside the raw library floor measured in the same run.

Run: `.venv/bin/python -m bench.codec`
"""

from __future__ import annotations

import hashlib

import cbor2

from bench._timing import rate, report
from domain.data import dag_cbor
from domain.data.cid import CID

POST = {
    "$type": "app.bsky.feed.post",
    "text": "Measuring how fast quire encodes a realistic post.",
    "createdAt": "2024-05-01T12:34:56.789Z",
    "langs": ["en"],
    "reply": {
        "root": {
            "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2x",
            "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        },
        "parent": {
            "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2y",
            "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
        },
    },
}
LIKE = {
    "$type": "app.bsky.feed.like",
    "subject": {
        "uri": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kq2w3l4s5d2x",
        "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
    },
    "createdAt": "2024-05-01T12:34:56.789Z",
}
_LINK = CID.for_dag_cbor(b"leaf")
MST_NODE = {
    "e": [
        {
            "k": (f"app.bsky.feed.post/3kq2w3l4s5d{i:02d}" if i == 0 else f"{i:02d}").encode(),
            "p": 0 if i == 0 else 29,
            "t": None,
            "v": _LINK,
        }
        for i in range(16)
    ],
    "l": None,
}


def _cbor2_value(value: object) -> object:
    """The same value with CIDs as cbor2 tags, for the raw-library floor."""
    if isinstance(value, dict):
        return {k: _cbor2_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cbor2_value(v) for v in value]
    if isinstance(value, CID):
        return cbor2.CBORTag(42, b"\x00" + value.raw)
    return value


def bench_codec() -> None:
    """Encode/decode MB/s for posts, likes and MST nodes; floor = cbor2 canonical."""
    for name, value in (("post", POST), ("like", LIKE), ("mst_node", MST_NODE)):
        data = dag_cbor.encode(value)
        raw_value = _cbor2_value(value)
        mb = len(data) / 1e6

        # Defaults bind this iteration's values, as the lambdas these replace did.
        def encode(v: dag_cbor.Value = value) -> bytes:
            return dag_cbor.encode(v)

        def dumps(v: object = raw_value) -> bytes:
            return cbor2.dumps(v, canonical=True)

        def decode(d: bytes = data) -> dag_cbor.Value:
            return dag_cbor.decode(d)

        def loads(d: bytes = data) -> object:
            return cbor2.loads(d)

        report(f"dag_cbor_encode_{name}", rate(encode) * mb, "MB/s")
        report(f"floor_cbor2_dumps_canonical_{name}", rate(dumps) * mb, "MB/s")
        report(f"dag_cbor_decode_{name}", rate(decode) * mb, "MB/s")
        report(f"floor_cbor2_loads_{name}", rate(loads) * mb, "MB/s")


def bench_cid() -> None:
    """CIDs of a ~300-byte record; floor = hashlib sha256 of the same bytes."""
    data = dag_cbor.encode(POST)
    report("record_bytes", len(data), "bytes")
    report("cid_for_dag_cbor", rate(lambda: CID.for_dag_cbor(data), batch=1000), "CIDs/s")
    report("floor_hashlib_sha256", rate(lambda: hashlib.sha256(data).digest(), batch=1000), "ops/s")
    report("encode_plus_cid", rate(lambda: dag_cbor.cid_of(POST), batch=1000), "records/s")
    report("floor_encode_only", rate(lambda: dag_cbor.encode(POST), batch=1000), "records/s")
    cid = CID.for_dag_cbor(data)
    text = str(cid)
    report("cid_format_base32", rate(lambda: str(CID(cid.raw)), batch=1000), "CIDs/s")
    report("cid_parse_base32", rate(lambda: CID.parse(text), batch=1000), "CIDs/s")
    from multiformats import CID as MfCID

    report("peer_multiformats_cid_parse", rate(lambda: MfCID.decode(text), batch=100), "CIDs/s")


def bench_crypto() -> None:
    """k256 and p256 sign/verify per second; floor = coincurve's own sign."""
    import coincurve

    from domain.crypto.k256 import K256Keypair
    from domain.crypto.keys import Keypair, verify_signature
    from domain.crypto.p256 import P256Keypair

    msg = dag_cbor.encode(POST)
    digest = hashlib.sha256(msg).digest()
    raw_key = coincurve.PrivateKey()
    for name, keypair in (("k256", K256Keypair.generate()), ("p256", P256Keypair.generate())):
        sig = keypair.sign(msg)
        did = keypair.did()

        def sign(k: Keypair = keypair) -> bytes:
            return k.sign(msg)

        def verify(d: str = did, s: bytes = sig) -> bool:
            return verify_signature(d, msg, s)

        report(f"{name}_sign", rate(sign), "sigs/s")
        report(f"{name}_verify", rate(verify), "verifies/s")
    report(
        "floor_coincurve_sign_recoverable",
        rate(lambda: raw_key.sign_recoverable(digest, hasher=None)),
        "sigs/s",
    )


def main() -> None:
    """Run every codec benchmark."""
    bench_codec()
    bench_cid()
    bench_crypto()


if __name__ == "__main__":
    main()
