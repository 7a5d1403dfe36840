"""GroupCommitter: batching per event-loop turn on the loop's thread, and on its writer thread.

A fake host records the batches it is handed, so each test can say which requests were
recorded together and on which thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from application.repo_host.group_commit import GroupCommitter
from domain.data.cid import CID
from domain.repo.block_map import BlockMap
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite

T = TypeVar("T")
POST = "app.bsky.feed.post"
Request = tuple[str, list[RecordWrite], CID | None]


class Refused(Exception):
    """What the fake host answers for a DID starting with `did:bad:`."""


class FakeHost:
    """Answers each request with a commit (or `Refused`); remembers batches and threads."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail_with = fail_with

    def apply_writes_batch(self, requests: list[Request]) -> list[RepoCommit | Exception]:
        self.threads.add(threading.get_ident())
        self.batches.append([did for did, _, _ in requests])
        if self.fail_with is not None:
            raise self.fail_with
        return [
            Refused(did) if did.startswith("did:bad:") else _commit(did) for did, _, _ in requests
        ]


def _commit(did: str) -> RepoCommit:
    cid = CID.for_dag_cbor(did.encode())
    return RepoCommit(did, "3k2aaaaaaaaa2", cid, None, None, cid, (), BlockMap())


def _write() -> list[RecordWrite]:
    return [RecordWrite("create", POST, "3k2aaaaaaaaa2", {"$type": POST})]


def run(coro: Coroutine[Any, Any, T]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout=10)

    return asyncio.run(bounded())


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def committer(host: FakeHost) -> Any:
    committer = GroupCommitter(host, max_batch=4)  # type: ignore[arg-type]
    yield committer
    committer.close()


def test_commits_requested_in_one_loop_turn_are_recorded_together(
    host: FakeHost, committer: GroupCommitter
) -> None:
    dids = [f"did:plc:{n}" for n in range(3)]

    async def scenario() -> list[RepoCommit]:
        return await asyncio.gather(*(committer.commit(did, _write()) for did in dids))

    commits = run(scenario())
    assert [commit.did for commit in commits] == dids
    assert host.batches == [dids]
    assert committer.batches == 1 and committer.commits == 3


def test_a_lone_writer_commits_on_the_loop_thread_one_batch_each(
    host: FakeHost, committer: GroupCommitter
) -> None:
    async def scenario() -> int:
        for n in range(3):
            await committer.commit(f"did:plc:{n}", _write())
        return threading.get_ident()

    loop_thread = run(scenario())
    assert host.batches == [["did:plc:0"], ["did:plc:1"], ["did:plc:2"]]
    assert host.threads == {loop_thread}


def test_more_than_a_batch_is_split_and_the_loop_runs_between_batches(
    host: FakeHost, committer: GroupCommitter
) -> None:
    dids = [f"did:plc:{n}" for n in range(10)]
    ticks: list[int] = []

    async def ticker() -> None:
        for _ in range(3):
            ticks.append(len(host.batches))
            await asyncio.sleep(0)

    async def scenario() -> None:
        commits = [committer.commit(did, _write()) for did in dids]
        await asyncio.gather(*commits, ticker())

    run(scenario())
    assert host.batches == [dids[:4], dids[4:8], dids[8:]]
    assert ticks == [0, 1, 2]  # the ticker ran between batches


def test_a_refused_request_fails_alone(host: FakeHost, committer: GroupCommitter) -> None:
    async def scenario() -> list[Any]:
        return await asyncio.gather(
            committer.commit("did:plc:a", _write()),
            committer.commit("did:bad:b", _write()),
            committer.commit("did:plc:c", _write()),
            return_exceptions=True,
        )

    a, b, c = run(scenario())
    assert isinstance(b, Refused)
    assert (a.did, c.did) == ("did:plc:a", "did:plc:c")
    assert committer.commits == 2


def test_an_infrastructure_failure_reaches_every_caller_of_the_batch() -> None:
    committer = GroupCommitter(FakeHost(fail_with=OSError("disk full")))  # type: ignore[arg-type]

    async def scenario() -> list[Any]:
        return await asyncio.gather(
            *(committer.commit(f"did:plc:{n}", _write()) for n in range(3)),
            return_exceptions=True,
        )

    try:
        outcomes = run(scenario())
    finally:
        committer.close()
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert committer.commits == 0


def test_a_caller_that_went_away_does_not_undo_its_commit(
    host: FakeHost, committer: GroupCommitter
) -> None:
    async def scenario() -> RepoCommit:
        gone = asyncio.ensure_future(committer.commit("did:plc:gone", _write()))
        stays = asyncio.ensure_future(committer.commit("did:plc:stays", _write()))
        await asyncio.sleep(0)  # both queued, the batch not yet run
        gone.cancel()
        return await stays

    assert run(scenario()).did == "did:plc:stays"
    assert host.batches == [["did:plc:gone", "did:plc:stays"]]


def test_submitting_from_threads_still_batches_on_the_writer_thread(
    host: FakeHost, committer: GroupCommitter
) -> None:
    futures = [committer.submit(f"did:plc:{n}", _write()) for n in range(6)]
    assert [future.result(timeout=10).did for future in futures] == [
        f"did:plc:{n}" for n in range(6)
    ]
    assert host.threads == {committer._thread.ident}
    assert sum(len(batch) for batch in host.batches) == 6


def _dids(first: int, count: int) -> frozenset[str]:
    return frozenset(f"did:plc:{n}" for n in range(first, first + count))


def _stopped_committer(recent: tuple[int, int], linger: float) -> GroupCommitter:
    """A committer whose writer thread has exited, so a test can drive `_gather` itself.

    `recent` gives the sizes of the last two batches, each of distinct accounts.
    """
    committer = GroupCommitter(FakeHost(), on_loop=False)  # type: ignore[arg-type]
    committer.close()
    committer._recent = (_dids(0, recent[0]), _dids(recent[0], recent[1]))
    committer._linger = linger
    return committer


def _item(n: int) -> Any:
    return ((f"did:plc:{n}", [], None), n)


def _put_later(committer: GroupCommitter, count: int, delay: float) -> threading.Thread:
    def put() -> None:
        threading.Event().wait(delay)
        for n in range(count):
            committer._queue.put(_item(n))

    thread = threading.Thread(target=put)
    thread.start()
    return thread


def test_writers_taking_turns_are_gathered_into_one_batch() -> None:
    committer = _stopped_committer(recent=(4, 4), linger=1.0)
    late = _put_later(committer, 7, delay=0.01)
    batch = committer._gather(_item(-1))
    late.join()
    assert len(batch) == 8  # stopped lingering as soon as the 4 + 4 were back


def test_a_lone_writer_never_lingers() -> None:
    committer = _stopped_committer(recent=(1, 0), linger=1.0)
    late = _put_later(committer, 1, delay=0.2)
    batch = committer._gather(_item(-1))
    late.join()
    assert len(batch) == 1


def test_lingering_ends_at_the_deadline_with_whoever_came() -> None:
    committer = _stopped_committer(recent=(4, 4), linger=0.05)
    batch = committer._gather(_item(-1))
    assert len(batch) == 1


def test_a_full_batch_of_the_usual_writers_does_not_wait() -> None:
    committer = _stopped_committer(recent=(8, 0), linger=1.0)
    for n in range(7):
        committer._queue.put(_item(n))
    started = time.monotonic()
    batch = committer._gather(_item(7))
    assert len(batch) == 8 and time.monotonic() - started < 0.5


def test_linger_follows_the_last_transaction_time_with_a_cap() -> None:
    committer = _stopped_committer(recent=(0, 0), linger=0.0)
    committer._learn([_item(1), _item(2)], 0.004)
    assert committer._recent == (_dids(1, 2), frozenset())
    assert committer._linger == pytest.approx(0.001)
    committer._learn([_item(3)], 1.0)
    assert committer._recent == (_dids(3, 1), _dids(1, 2)) and committer._linger == 0.002
