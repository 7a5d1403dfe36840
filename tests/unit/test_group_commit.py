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

from application.repo_host.group_commit import GroupCommitter, _Company
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
    committer._thread_company.recent = (_dids(0, recent[0]), _dids(recent[0], recent[1]))
    committer._thread_company.linger = linger
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
    company = _Company(0.25)
    company.learn(_dids(1, 2), 0.004)
    assert company.recent == (_dids(1, 2), frozenset()) and company.expected(64) == 2
    assert company.linger == pytest.approx(0.001)
    company.learn(_dids(3, 1), 1.0)
    assert company.recent == (_dids(3, 1), _dids(1, 2)) and company.linger == 0.002
    assert company.expected(2) == 2  # never more than a batch


def _loop_committer(host: FakeHost, recent: tuple[int, int], linger: float) -> GroupCommitter:
    """A committer whose loop path remembers batches of `recent` distinct accounts."""
    committer = GroupCommitter(host)  # type: ignore[arg-type]
    committer._loop_company.recent = (_dids(0, recent[0]), _dids(recent[0], recent[1]))
    committer._loop_company.linger = linger
    return committer


async def _arriving(committer: GroupCommitter, first: int, count: int, gap: float) -> list[str]:
    """`count` commits arriving one per `gap` seconds, each in a later loop turn."""

    async def one(n: int) -> str:
        await asyncio.sleep(n * gap)
        return (await committer.commit(f"did:plc:{first + n}", _write())).did

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def test_on_the_loop_writers_taking_turns_share_one_batch(host: FakeHost) -> None:
    committer = _loop_committer(host, recent=(4, 4), linger=1.0)
    started = time.monotonic()
    dids = run(_arriving(committer, 0, 8, gap=0.01))
    committer.close()
    assert host.batches == [dids]  # one batch, though they came in eight turns
    assert time.monotonic() - started < 0.5  # not the full linger: all eight were back
    assert committer._loop_company.recent[0] == frozenset(dids)


def test_on_the_loop_a_lone_writer_never_waits(host: FakeHost) -> None:
    committer = _loop_committer(host, recent=(1, 1), linger=1.0)
    started = time.monotonic()
    run(_arriving(committer, 0, 3, gap=0.0))
    committer.close()
    assert time.monotonic() - started < 0.5


def test_on_the_loop_lingering_ends_at_the_deadline_with_whoever_came(host: FakeHost) -> None:
    committer = _loop_committer(host, recent=(4, 4), linger=0.05)
    started = time.monotonic()
    run(_arriving(committer, 0, 2, gap=0.0))
    waited = time.monotonic() - started
    committer.close()
    assert host.batches == [["did:plc:0", "did:plc:1"]]
    assert 0.04 <= waited < 0.5
    assert committer._loop_company.recent[0] == _dids(0, 2)  # learned who wrote
