"""CAR v1 reading and writing, varints, against the reference fixtures and hostile input."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.data import dag_cbor
from domain.data.cid import CID
from domain.repo import varint
from domain.repo.car import car_bytes, encode_header, load_car, read_car, write_car
from domain.repo.errors import InvalidCar, RepoError, UnsupportedCidHash
from tests.conftest import VECTORS

FIXTURES = json.loads((VECTORS / "atproto-repo" / "car-file-fixtures.json").read_text())


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _fixture_blocks(fixture: dict[str, object]) -> list[tuple[CID, bytes]]:
    blocks = fixture["blocks"]
    assert isinstance(blocks, list)
    return [(CID.parse(block["cid"]), _b64(block["bytes"])) for block in blocks]


def _section(cid_raw: bytes, data: bytes) -> bytes:
    return varint.encode(len(cid_raw) + len(data)) + cid_raw + data


def _header(value: object) -> bytes:
    header = dag_cbor.encode(value)
    return varint.encode(len(header)) + header


def _block(n: int) -> tuple[CID, bytes]:
    data = dag_cbor.encode({"n": n})
    return CID.for_dag_cbor(data), data


ROOT, _ = _block(0)
BLOCKS = [_block(n) for n in range(5)]
VALID = car_bytes(ROOT, BLOCKS)


# -- reference fixtures ----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["root"])
def test_reading_a_reference_car_yields_its_root_and_blocks_in_order(
    fixture: dict[str, Any],
) -> None:
    reader = read_car(_b64(fixture["car"]))
    assert [str(root) for root in reader.roots] == [fixture["root"]]
    assert list(reader) == _fixture_blocks(fixture)


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["root"])
def test_writing_reference_blocks_reproduces_the_car_bytes(fixture: dict[str, Any]) -> None:
    root = CID.parse(fixture["root"])
    assert car_bytes(root, _fixture_blocks(fixture)) == _b64(fixture["car"])


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f["root"])
def test_reading_one_byte_at_a_time_gives_the_same_blocks(fixture: dict[str, Any]) -> None:
    car = _b64(fixture["car"])
    reader = read_car(car[i : i + 1] for i in range(len(car)))
    assert list(reader) == _fixture_blocks(fixture)


# -- writer ---------------------------------------------------------------------------------


def test_writer_coalesces_blocks_into_chunks_of_about_the_requested_size() -> None:
    blocks = [_block(n) for n in range(2000)]
    chunks = list(write_car(ROOT, blocks, chunk_size=4096))
    assert b"".join(chunks) == car_bytes(ROOT, blocks)
    assert len(chunks) > 5
    assert all(4096 <= len(chunk) < 4096 + 100 for chunk in chunks[:-1])


def test_writer_is_lazy_so_a_response_can_stream_a_large_repository() -> None:
    def endless() -> Iterator[tuple[CID, bytes]]:
        n = 0
        while True:
            yield _block(n)
            n += 1

    first = next(iter(write_car(ROOT, endless(), chunk_size=1024)))
    assert 1024 <= len(first) < 2048


def test_a_car_without_a_root_has_an_empty_roots_list() -> None:
    car = car_bytes(None, BLOCKS)
    assert car.startswith(encode_header([]))
    reader = read_car(car)
    assert reader.roots == ()
    with pytest.raises(InvalidCar):
        _ = reader.root
    assert list(reader) == BLOCKS


def test_header_is_canonical_dag_cbor_of_version_and_roots() -> None:
    header = encode_header([ROOT])
    length, pos = varint.decode(header)
    assert length == len(header) - pos
    assert dag_cbor.decode(header[pos:]) == {"roots": [ROOT], "version": 1}


def test_independent_decoder_reads_what_we_write() -> None:
    libipld = pytest.importorskip("libipld")
    blocks = [_block(n) for n in range(50)]
    header, decoded = libipld.decode_car(car_bytes(ROOT, blocks))
    assert header["version"] == 1
    assert {bytes(cid) for cid in decoded} == {cid.raw for cid, _ in blocks}


# -- reader: tolerance the repository spec requires ---------------------------------------------


def test_reader_accepts_any_block_order_and_duplicates() -> None:
    blocks = BLOCKS + BLOCKS[:2]
    random.Random(7).shuffle(blocks)
    reader = read_car(car_bytes(ROOT, blocks))
    assert list(reader) == blocks
    roots, block_map = load_car(car_bytes(ROOT, blocks))
    assert roots == (ROOT,)
    assert sorted(block_map.items()) == sorted(BLOCKS)


def test_reader_accepts_blocks_unrelated_to_the_root_and_zero_blocks() -> None:
    raw_data = b"\x00binary blob"
    blocks = [(CID.for_raw(raw_data), raw_data)]
    assert list(read_car(car_bytes(ROOT, blocks))) == blocks
    assert list(read_car(car_bytes(ROOT, []))) == []


def test_reader_accepts_extra_roots_and_exposes_the_first_as_root() -> None:
    other, _ = _block(99)
    car = _header({"roots": [ROOT, other], "version": 1}) + b"".join(
        _section(cid.raw, data) for cid, data in BLOCKS
    )
    reader = read_car(car)
    assert reader.roots == (ROOT, other)
    assert reader.root == ROOT


def test_reader_ignores_unknown_header_keys() -> None:
    car = _header({"roots": [ROOT], "version": 1, "comment": "x"})
    assert read_car(car).roots == (ROOT,)


def test_reader_verifies_a_cidv0_block() -> None:
    data = b"dag-pb bytes, say"
    cid_raw = b"\x12\x20" + hashlib.sha256(data).digest()
    car = encode_header([ROOT]) + _section(cid_raw, data)
    assert list(read_car(car)) == [(CID(cid_raw), data)]
    with pytest.raises(InvalidCar):
        list(read_car(encode_header([ROOT]) + _section(cid_raw, data + b"!")))


def test_reader_accepts_an_empty_raw_block() -> None:
    blocks = [(CID.for_raw(b""), b"")]
    assert list(read_car(car_bytes(ROOT, blocks))) == blocks


def test_reader_accepts_bytearray_memoryview_and_chunk_iterables() -> None:
    assert list(read_car(bytearray(VALID))) == BLOCKS
    assert list(read_car(memoryview(VALID))) == BLOCKS
    assert list(read_car([VALID[:10], b"", bytearray(VALID[10:50]), memoryview(VALID)[50:]])) == (
        BLOCKS
    )


# -- reader: rejection --------------------------------------------------------------------------


def test_a_block_whose_bytes_do_not_match_its_cid_is_rejected() -> None:
    cid, data = BLOCKS[1]
    car = encode_header([ROOT]) + _section(cid.raw, data[:-1] + b"\x00")
    reader = read_car(car)
    with pytest.raises(InvalidCar, match="do not match"):
        list(reader)


def test_blocks_before_a_bad_one_are_yielded_first() -> None:
    cid, data = BLOCKS[1]
    car = encode_header([ROOT]) + _section(*_raw(BLOCKS[0])) + _section(cid.raw, data + b"\x00")
    reader = iter(read_car(car))
    assert next(reader) == BLOCKS[0]
    with pytest.raises(InvalidCar):
        next(reader)


def _raw(block: tuple[CID, bytes]) -> tuple[bytes, bytes]:
    return block[0].raw, block[1]


@pytest.mark.parametrize(
    ("hash_code", "digest"),
    [(0x00, b"identity"), (0x1E, bytes(32)), (0x13, bytes(64)), (0x12, bytes(20))],
    ids=["identity", "blake3", "sha2-512", "short-sha2-256"],
)
def test_blocks_hashed_with_other_functions_are_rejected_with_a_typed_error(
    hash_code: int, digest: bytes
) -> None:
    cid_raw = bytes((0x01, 0x71)) + varint.encode(hash_code) + varint.encode(len(digest)) + digest
    car = encode_header([ROOT]) + _section(cid_raw, b"\xa0")
    with pytest.raises(UnsupportedCidHash):
        list(read_car(car))


@pytest.mark.parametrize(
    "car",
    [
        b"",
        b"\x00",
        b"\x80",  # truncated header length
        b"\x80\x00" + _header({"roots": [], "version": 1})[1:],  # non-minimal varint
        b"\xff" * 10,  # varint longer than 9 bytes
        _header({"roots": [ROOT], "version": 1})[:-1],  # truncated header
        _header({"version": 2}),  # the CARv2 pragma
        _header({"roots": [ROOT], "version": 2}),
        _header({"roots": [ROOT], "version": True}),
        _header({"roots": [ROOT]}),
        _header({"version": 1}),
        _header({"roots": ROOT, "version": 1}),
        _header({"roots": [str(ROOT)], "version": 1}),
        _header({"roots": [ROOT, None], "version": 1}),
        _header([ROOT]),
        _header(1),
        b"\x05" + b"\xa2\x00\x00\x00\x00",  # not CBOR
        # same header, keys in non-canonical order (not DAG-CBOR)
        b"\x0f\xa2gversion\x01eroots\x80",
    ],
    ids=lambda car: car[:12].hex() or "empty",
)
def test_malformed_headers_are_rejected(car: bytes) -> None:
    with pytest.raises(InvalidCar):
        read_car(car)


@pytest.mark.parametrize(
    "body",
    [
        b"\x80",  # truncated section length
        b"\x80\x00",  # non-minimal section length
        b"\x00",  # empty section: no CID
        b"\x05\x01\x71\x12\x20\x00",  # CID cut short by its section
        b"\x26" + BLOCKS[0][0].raw,  # section claims more than the input holds
        varint.encode(len(VALID)) + VALID[:20],
        b"\x10\x02\x71\x12\x20" + bytes(12),  # CID version 2
        b"\x03\x01\x71\x80",  # truncated CID varint
    ],
    ids=lambda body: body[:8].hex(),
)
def test_malformed_sections_are_rejected(body: bytes) -> None:
    with pytest.raises(InvalidCar):
        list(read_car(encode_header([ROOT]) + body))


def test_every_truncation_fails_unless_it_falls_between_blocks() -> None:
    boundaries = {len(encode_header([ROOT]))}
    for n in range(1, len(BLOCKS) + 1):
        boundaries.add(len(car_bytes(ROOT, BLOCKS[:n])))
    for cut in range(len(VALID)):
        if cut in boundaries:
            assert list(read_car(VALID[:cut])) == BLOCKS[: sorted(boundaries).index(cut)]
        else:
            with pytest.raises(InvalidCar):
                list(read_car(VALID[:cut]))


def test_a_block_over_the_size_limit_is_rejected_before_it_is_buffered() -> None:
    def stream() -> Iterator[bytes]:
        yield encode_header([ROOT]) + varint.encode(3 * 1024 * 1024) + BLOCKS[0][0].raw
        raise AssertionError("the reader must not ask for the oversized block's bytes")

    with pytest.raises(InvalidCar, match="limit"):
        list(read_car(stream()))


def test_block_size_limit_applies_to_the_data_not_the_cid() -> None:
    data = bytes(100)
    blocks = [(CID.for_raw(data), data)]
    assert list(read_car(car_bytes(ROOT, blocks), max_block_size=100)) == blocks
    with pytest.raises(InvalidCar):
        list(read_car(car_bytes(ROOT, blocks), max_block_size=99))
    v0 = (CID(b"\x12\x20" + hashlib.sha256(data).digest()), data)
    with pytest.raises(InvalidCar):
        list(read_car(car_bytes(ROOT, [v0]), max_block_size=99))


def test_total_size_limit_stops_reading() -> None:
    assert list(read_car(VALID, max_total_size=len(VALID))) == BLOCKS
    with pytest.raises(InvalidCar, match="size limit"):
        list(read_car(VALID, max_total_size=len(VALID) - 1))


def test_header_size_limit() -> None:
    car = _header({"roots": [ROOT] * 100, "version": 1})
    assert len(read_car(car).roots) == 100
    with pytest.raises(InvalidCar):
        read_car(car, max_header_size=100)


def test_car_errors_are_repo_errors_and_value_errors() -> None:
    assert issubclass(InvalidCar, RepoError)
    assert issubclass(UnsupportedCidHash, InvalidCar)
    assert issubclass(InvalidCar, ValueError)


# -- properties ---------------------------------------------------------------------------------

_payloads = st.lists(st.binary(max_size=300), max_size=30)


def _as_blocks(payloads: list[bytes], raw: list[bool]) -> list[tuple[CID, bytes]]:
    blocks = []
    for index, data in enumerate(payloads):
        if raw[index % len(raw)]:
            blocks.append((CID.for_raw(data), data))
        else:
            value = dag_cbor.encode({"b": data})
            blocks.append((CID.for_dag_cbor(value), value))
    return blocks


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@given(
    payloads=_payloads,
    raw=st.lists(st.booleans(), min_size=1, max_size=5),
    has_root=st.booleans(),
    chunk_size=st.integers(1, 2000),
    cuts=st.lists(st.integers(0, 10_000), max_size=20),
)
def test_write_then_read_round_trips_any_block_set(
    payloads: list[bytes], raw: list[bool], has_root: bool, chunk_size: int, cuts: list[int]
) -> None:
    blocks = _as_blocks(payloads, raw)
    root = blocks[0][0] if has_root and blocks else None
    chunks = list(write_car(root, blocks, chunk_size=chunk_size))
    whole = b"".join(chunks)
    assert whole == car_bytes(root, blocks)
    reader = read_car(_split(whole, cuts))
    assert reader.roots == (() if root is None else (root,))
    assert list(reader) == blocks
    _, block_map = load_car(iter(chunks))
    assert dict(block_map.items()) == dict(blocks)


@given(
    payloads=_payloads,
    order=st.randoms(use_true_random=False),
    duplicates=st.lists(st.integers(0, 29), max_size=10),
)
def test_shuffled_and_duplicated_blocks_load_to_the_same_block_set(
    payloads: list[bytes], order: random.Random, duplicates: list[int]
) -> None:
    blocks = _as_blocks(payloads, [False, True])
    mixed = blocks + [blocks[i] for i in duplicates if i < len(blocks)]
    order.shuffle(mixed)
    roots, block_map = load_car(car_bytes(ROOT, mixed))
    assert roots == (ROOT,)
    assert dict(block_map.items()) == dict(blocks)


def _outcome(data: bytes | list[bytes]) -> list[tuple[CID, bytes]] | str:
    """The verified blocks read, or "invalid": any other exception fails the test."""
    try:
        reader = read_car(data)
        blocks = list(reader)
    except InvalidCar:
        return "invalid"
    for cid, block in blocks:
        assert type(cid) is CID and type(block) is bytes
        assert cid.raw[-32:] == hashlib.sha256(block).digest()
    return blocks


@settings(max_examples=500)
@given(data=st.binary(max_size=400), step=st.integers(1, 50))
def test_arbitrary_bytes_raise_only_invalid_car(data: bytes, step: int) -> None:
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    assert _outcome(data) == _outcome(chunks)


@settings(max_examples=500)
@given(
    payloads=_payloads,
    edits=st.lists(
        st.tuples(st.sampled_from(["flip", "insert", "delete", "cut"]), st.integers(0, 10**6)),
        min_size=1,
        max_size=4,
    ),
    byte=st.integers(0, 255),
)
def test_mutated_cars_raise_only_invalid_car_or_read_verified_blocks(
    payloads: list[bytes], edits: list[tuple[str, int]], byte: int
) -> None:
    data = bytearray(car_bytes(ROOT, _as_blocks(payloads, [False, True])))
    for kind, where in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= byte or 1
        elif kind == "insert":
            data[at:at] = bytes((byte,))
        elif kind == "delete" and at < len(data):
            del data[at]
        elif kind == "cut":
            del data[at:]
    whole = bytes(data)
    assert _outcome(whole) == _outcome([whole[i : i + 7] for i in range(0, len(whole), 7)])


# -- varints ------------------------------------------------------------------------------------


@given(st.integers(0, varint.MAX_VALUE))
def test_varint_round_trips_and_is_minimal(value: int) -> None:
    encoded = varint.encode(value)
    assert varint.decode(encoded) == (value, len(encoded))
    assert varint.decode(b"\xaa" + encoded + b"\xff", 1) == (value, len(encoded) + 1)
    assert encoded[-1] != 0 or value == 0
    assert len(encoded) <= varint.MAX_BYTES


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (1, b"\x01"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (300, b"\xac\x02"),
        (16384, b"\x80\x80\x01"),
        (varint.MAX_VALUE, b"\xff" * 8 + b"\x7f"),
    ],
)
def test_varint_known_encodings(value: int, encoded: bytes) -> None:
    assert varint.encode(value) == encoded
    assert varint.decode(encoded) == (value, len(encoded))


@pytest.mark.parametrize("value", [-1, varint.MAX_VALUE + 1])
def test_varint_refuses_to_encode_out_of_range_values(value: int) -> None:
    with pytest.raises(ValueError):
        varint.encode(value)


@pytest.mark.parametrize(
    ("encoded", "error"),
    [
        (b"", varint.TruncatedVarint),
        (b"\x80", varint.TruncatedVarint),
        (b"\xff\xff", varint.TruncatedVarint),
        (b"\x80\x00", varint.InvalidVarint),
        (b"\x81\x80\x00", varint.InvalidVarint),
        (b"\xff" * 9 + b"\x01", varint.InvalidVarint),
        (b"\x80" * 9 + b"\x01", varint.InvalidVarint),
    ],
)
def test_varint_rejects_truncated_non_minimal_and_oversized_input(
    encoded: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        varint.decode(encoded)


def test_single_root_header_fast_path_matches_the_general_encoder() -> None:
    from domain.repo.car import _single_root_header, encode_header

    for seed in range(20):
        root = CID.for_dag_cbor(bytes([seed]))
        assert _single_root_header(root) == encode_header((root,))
