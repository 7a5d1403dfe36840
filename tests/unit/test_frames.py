"""Firehose frames: canonical bytes, header/body split, every frame kind."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.data.cid import CID
from domain.firehose import frames

cids = st.binary(max_size=8).map(CID.for_dag_cbor)
ops = st.lists(
    st.builds(
        frames.FrameOp,
        st.sampled_from(["create", "update", "delete"]),
        st.text(min_size=1, max_size=30),
        st.none() | cids,
        st.none() | cids,
    ),
    max_size=5,
)


@given(
    ops,
    st.integers(0, 2**63 - 1),
    st.none() | cids,
    st.none() | st.text(max_size=13),
    st.lists(cids, max_size=3),
    st.sampled_from([0, 1, 23, 24, 255, 256, 65535, 65536, 70000]),
    st.text(min_size=1, max_size=300),
)
def test_commit_frame_body_is_canonical_dag_cbor(
    frame_ops: list[frames.FrameOp],
    seq: int,
    prev: CID | None,
    since: str | None,
    blobs: list[CID],
    block_bytes: int,
    repo: str,
) -> None:
    blocks = bytes(range(256)) * (block_bytes // 256) + b"\x07" * (block_bytes % 256)
    frame = frames.commit_frame(
        seq=seq, repo=repo, commit=CID.for_dag_cbor(b"c"), rev="3k2aaaaaaaaa2",
        since=since, blocks=blocks, ops=frame_ops, prev_data=prev,
        time="2024-01-01T00:00:00.000Z", blobs=blobs,
    )  # fmt: skip
    header, body = frames.split_frame(frame)
    assert header == {"op": 1, "t": "#commit"}
    assert frame == frames.message_frame("#commit", body)  # byte for byte the generic encoding
    assert body["seq"] == seq and body["ops"] == [op.to_value() for op in frame_ops]
    assert body["blocks"] == blocks and body["blobs"] == blobs and body["repo"] == repo


def test_too_many_ops_marks_the_frame_too_big_and_drops_blocks() -> None:
    many = [frames.FrameOp("create", f"a/{i}", CID.for_dag_cbor(b"x"), None) for i in range(201)]
    frame = frames.commit_frame(
        seq=1, repo="did:plc:x", commit=CID.for_dag_cbor(b"c"), rev="3k2aaaaaaaaa2",
        since=None, blocks=b"\x00" * 10, ops=many, prev_data=None, time="t",
    )  # fmt: skip
    _, body = frames.split_frame(frame)
    assert body["tooBig"] is True and body["blocks"] == b"" and body["ops"] == []


def test_error_frame_has_op_minus_one_header() -> None:
    header, body = frames.split_frame(frames.error_frame("FutureCursor", "ahead"))
    assert header == {"op": -1}
    assert body == {"error": "FutureCursor", "message": "ahead"}


def test_account_frame_omits_status_when_active() -> None:
    _, active = frames.split_frame(
        frames.account_frame(seq=1, did="did:plc:x", time="t", active=True, status="active")
    )
    _, inactive = frames.split_frame(
        frames.account_frame(seq=2, did="did:plc:x", time="t", active=False, status="takendown")
    )
    assert "status" not in active and inactive["status"] == "takendown"
