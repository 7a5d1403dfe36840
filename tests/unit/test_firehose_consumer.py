"""The consumer over scripted frame sources: resumption, backoff, watchdog, verification."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.firehose_consumer.consumer import (
    Backoff,
    FirehoseConsumer,
    FutureCursorError,
)
from application.firehose_consumer.events import (
    CommitEvent,
    FirehoseEvent,
    IdentityEvent,
    InfoEvent,
    InvalidFrame,
    SeqEvent,
    decode_frame,
)
from application.firehose_consumer.ports import FrameSourceError
from application.firehose_consumer.verify import BadSignature, InvalidRepoEvent
from domain.data.errors import DecodeError
from domain.firehose import frames
from domain.firehose.frames import split_frame
from tests.fakes.firehose_chain import DID, KEY, OTHER_KEY, TIME, build_chain, render

T = TypeVar("T")
HANG = "hang"
CHAIN = build_chain([[("create", "a1")], [("create", "z")], [("update", "a1")], [("delete", "z")]])
COMMITS = [rendered.frame for rendered in CHAIN]  # seqs 1..5


def run(coro: Awaitable[T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=10)

    return asyncio.run(bounded())


class ScriptedSource:
    """One script per connection: frames to yield, then an error to raise or a hang."""

    def __init__(self, *scripts: list[bytes | Exception | str]) -> None:
        self.scripts = list(scripts)
        self.cursors: list[int | None] = []

    async def frames(self, cursor: int | None) -> AsyncIterator[bytes]:
        self.cursors.append(cursor)
        script = self.scripts.pop(0) if self.scripts else [HANG]
        for item in script:
            if isinstance(item, Exception):
                raise item
            if item == HANG:
                await asyncio.Event().wait()
            assert isinstance(item, bytes)
            yield item


class Keys:
    """Signing keys by DID; `answers` are handed out in order, the last one repeatedly."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers) or [KEY.did()]
        self.calls = 0

    async def signing_key(self, did: str) -> str:
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class NoSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def consume(
    source: ScriptedSource,
    *,
    until: int,
    keys: Keys | None = None,
    collect_invalid: bool = False,
    **options: object,
) -> tuple[FirehoseConsumer, list[FirehoseEvent]]:
    """Run a consumer until it has handled (or rejected) the event with seq `until`."""
    seen: list[FirehoseEvent] = []
    rejected: list[tuple[SeqEvent, InvalidRepoEvent]] = []

    def stop_at_the_end(event: FirehoseEvent) -> None:
        if not isinstance(event, InfoEvent) and event.seq >= until:
            consumer.stop()

    async def handler(event: FirehoseEvent) -> None:
        seen.append(event)
        stop_at_the_end(event)

    async def on_invalid(event: SeqEvent, error: InvalidRepoEvent) -> None:
        rejected.append((event, error))
        stop_at_the_end(event)

    if collect_invalid:
        options["on_invalid"] = on_invalid
    consumer = FirehoseConsumer(
        source,
        keys or Keys(),
        sleep=NoSleep(),
        rand=lambda: 0.5,
        **options,  # type: ignore[arg-type]
    )
    consumer.rejected = rejected  # type: ignore[attr-defined]
    run(consumer.run(handler))
    return consumer, seen


def seq_list(events: list[FirehoseEvent]) -> list[int]:
    return [event.seq for event in events if not isinstance(event, InfoEvent)]


def test_a_dropped_connection_resumes_from_the_last_processed_seq() -> None:
    source = ScriptedSource([*COMMITS[:3], FrameSourceError("reset by peer")], COMMITS[3:])
    consumer, seen = consume(source, until=5, cursor=0)
    assert source.cursors == [0, 3]
    assert seq_list(seen) == [1, 2, 3, 4, 5]
    assert consumer.cursor == 5


def test_backoff_grows_while_connections_fail_and_resets_once_one_delivers() -> None:
    failure = FrameSourceError("refused")
    source = ScriptedSource([failure], [failure], [failure], [COMMITS[0], failure], COMMITS[1:])
    sleep = NoSleep()
    consumer = FirehoseConsumer(
        source, Keys(), backoff=Backoff(initial=1, maximum=5), sleep=sleep, rand=lambda: 0.5
    )

    async def handler(event: FirehoseEvent) -> None:
        if not isinstance(event, InfoEvent) and event.seq == 5:
            consumer.stop()

    run(consumer.run(handler))
    assert sleep.delays == [2, 4, 5, 1]


def test_backoff_jitter_spreads_delays_around_the_base() -> None:
    backoff = Backoff(initial=2, jitter=0.25)
    assert backoff.delay(0, 0.0) == 1.5
    assert backoff.delay(0, 0.999) == pytest.approx(2.5, abs=0.01)


def test_a_silent_connection_is_dropped_by_the_watchdog_and_resumed() -> None:
    source = ScriptedSource([*COMMITS[:2], HANG], COMMITS[2:])
    consumer, seen = consume(source, until=5, cursor=0, stall_timeout=0.05)
    assert source.cursors == [0, 2]
    assert seq_list(seen) == [1, 2, 3, 4, 5]
    assert consumer.disconnects[0].startswith("TimeoutError")


def test_future_cursor_error_frame_is_final() -> None:
    source = ScriptedSource([frames.error_frame("FutureCursor", "Cursor in the future.")])
    with pytest.raises(FutureCursorError):
        consume(source, until=1, cursor=99)


def test_consumer_too_slow_error_frame_reconnects_from_the_cursor() -> None:
    too_slow = frames.error_frame("ConsumerTooSlow", "too slow")
    source = ScriptedSource([*COMMITS[:2], too_slow], COMMITS[2:])
    consumer, seen = consume(source, until=5, cursor=0)
    assert source.cursors == [0, 2]
    assert seq_list(seen) == [1, 2, 3, 4, 5]
    assert "ConsumerTooSlow" in consumer.disconnects[0]


def test_a_replayed_seq_drops_the_connection_instead_of_processing_it_twice() -> None:
    source = ScriptedSource([*COMMITS[:3], COMMITS[1]], COMMITS[3:])
    consumer, seen = consume(source, until=5, cursor=0)
    assert seq_list(seen) == [1, 2, 3, 4, 5]
    assert "not after" in consumer.disconnects[0]


def test_info_frames_reach_the_handler_without_moving_the_cursor() -> None:
    info = frames.info_frame("OutdatedCursor", "possibly missing events")
    _, seen = consume(ScriptedSource([info, *COMMITS]), until=5, cursor=0)
    assert seen[0] == InfoEvent("OutdatedCursor", "possibly missing events")
    assert seq_list(seen) == [1, 2, 3, 4, 5]


def test_an_invalid_commit_goes_to_on_invalid_is_skipped_and_the_cursor_moves_on() -> None:
    wrong_key = Keys(OTHER_KEY.did())  # every answer is the wrong key
    consumer, seen = consume(
        ScriptedSource(COMMITS), until=5, cursor=0, keys=wrong_key, collect_invalid=True
    )
    rejected = consumer.rejected  # type: ignore[attr-defined]
    assert seen == []
    assert [event.seq for event, _ in rejected] == [1, 2, 3, 4, 5]
    assert all(isinstance(error, BadSignature) for _, error in rejected)
    assert consumer.cursor == 5


def test_an_invalid_commit_without_on_invalid_stops_the_consumer() -> None:
    with pytest.raises(BadSignature):
        consume(ScriptedSource(COMMITS), until=5, cursor=0, keys=Keys(OTHER_KEY.did()))


def test_a_bad_signature_is_retried_once_with_a_fresh_key() -> None:
    keys = Keys(OTHER_KEY.did(), KEY.did())  # stale first, then the rotated-to key
    _, seen = consume(ScriptedSource(COMMITS), until=5, cursor=0, keys=keys)
    assert seq_list(seen) == [1, 2, 3, 4, 5]
    assert keys.calls == 2  # cached after the refresh


def test_an_identity_event_drops_the_cached_key() -> None:
    identity = frames.identity_frame(seq=3, did=DID, time=TIME, handle="alice.test")
    stream = [render(CHAIN[0].commit, 1), render(CHAIN[1].commit, 2), identity]
    stream.append(render(CHAIN[2].commit, 4))
    keys = Keys()
    consumer, seen = consume(ScriptedSource(stream), until=4, cursor=0, keys=keys)
    assert isinstance(seen[2], IdentityEvent)
    assert seq_list(seen) == [1, 2, 3, 4]
    assert keys.calls == 2  # once before the #identity, once after
    assert consumer.states[DID].rev == CHAIN[2].commit.rev


def test_a_failing_handler_leaves_the_cursor_at_the_last_event_it_finished() -> None:
    consumer = FirehoseConsumer(ScriptedSource(COMMITS), Keys(), cursor=0, sleep=NoSleep())

    async def handler(event: FirehoseEvent) -> None:
        if isinstance(event, CommitEvent) and event.seq == 3:
            raise RuntimeError("handler bug")

    with pytest.raises(RuntimeError):
        run(consumer.run(handler))
    assert consumer.cursor == 2


@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_to_an_event_or_an_invalid_frame_never_a_crash(data: bytes) -> None:
    with contextlib.suppress(InvalidFrame):
        decode_frame(data)


@given(st.data())
def test_a_frame_with_a_flipped_byte_decodes_or_is_an_invalid_frame(data: st.DataObject) -> None:
    frame = bytearray(data.draw(st.sampled_from(COMMITS)))
    at = data.draw(st.integers(0, len(frame) - 1))
    frame[at] ^= 1 << data.draw(st.integers(0, 7))
    with contextlib.suppress(InvalidFrame):
        decode_frame(bytes(frame))


@pytest.mark.parametrize("header", [{"op": 1.5}, {"op": cbor2.CBORTag(1, 5)}])
def test_a_header_outside_the_data_model_is_a_decode_error(header: dict[str, object]) -> None:
    with pytest.raises(DecodeError):
        split_frame(cbor2.dumps(header) + b"\xa0")
