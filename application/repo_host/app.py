"""RepoHost: accounts and repositories as event-sourced aggregates in one notification log.

Its notification id is the firehose `seq`. Every `save()` passes the projection of the events
it records to the recorder, which writes the views in the same transaction (ADR 0003).
Writes to one DID are serialized in-process by a lock and across processes by optimistic
concurrency: a conflicting save raises, the cached head is dropped, and the commit is decided
again over the fresh head.

Account rows (status, signing key) are cached while the log is this host's alone: each save
asks the recorder to append right after the last seq this host saw (`follows`), and when
another writer got there first the rows the commit was decided with are read again before the
save is retried (see `application/ports/log_position.py`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError, Transcoder

from application.cbor_transcoder import CborTranscoder
from application.ports.block_store import BlockStore
from application.ports.key_store import KeyStore
from application.ports.log_position import LogMovedOn
from application.projection import project
from application.repo_host.account_aggregate import Account
from application.repo_host.repo_aggregate import Repo, repo_id
from application.views import AccountRow
from domain.crypto.keys import Keypair
from domain.data.cid import CID
from domain.data.tid import TidClock
from domain.repo.commit_builder import RepoHead, build_commit, build_genesis
from domain.repo.errors import RepoNotFound
from domain.repo.mst import NodeStore
from domain.repo.repo_commit import RepoCommit
from domain.repo.repo_import import build_import, build_resign
from domain.repo.writes import PreparedWrite, RecordWrite, prepare_writes

T = TypeVar("T")
MAX_ATTEMPTS = 8
HEAD_CACHE_SIZE = 10_000
NODE_CACHE_SIZE = 200_000


class AccountRows(Protocol):
    """The accounts view, read in the write path for the current status and signing key."""

    def get_account(self, did: str) -> AccountRow | None:
        """The account row of `did`."""
        ...

    def get_accounts(self, dids: list[str]) -> dict[str, AccountRow]:
        """The account rows of those `dids` that exist, in one read."""
        ...


class AccountsChanged(IntegrityError):
    """Another writer changed an account a commit was decided with: decide it again."""


class AccountNotActive(RepoNotFound):
    """The account exists but is deactivated, taken down or deleted."""

    def __init__(self, did: str, status: str) -> None:
        super().__init__(f"account {did} is {status}")
        self.status = status


class RepoHost(Application[str]):
    """The hosting application: create accounts, commit writes, change status."""

    name = "RepoHost"
    # eventsourcing's own cache fast-forwards cached aggregates with one indexed read, so an
    # account's status and signing key are current even when another process changed them.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "10000"}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        blocks: BlockStore,
        keys: KeyStore,
        clock: TidClock | None = None,
        on_saved: Callable[[], None] | None = None,
        accounts: AccountRows | None = None,
    ) -> None:
        super().__init__(env)
        self.on_saved = on_saved
        self.accounts = accounts
        self.blocks = blocks
        self.nodes = NodeStore(blocks, NODE_CACHE_SIZE)
        self.keys = keys
        self.clock = clock or TidClock(clock_id=0)
        self._write_lock = threading.RLock()
        self._repos: OrderedDict[str, Repo] = OrderedDict()
        self._accounts: OrderedDict[str, Account] = OrderedDict()
        self._signing_keys: dict[str, str] = {}
        # Account rows true as of seq `_log_end`, the end of the log when this host last
        # wrote to it; None (and no rows) while other writers may be appending too.
        self._checks_position = bool(getattr(self.recorder, "checks_position", False))
        self._rows: dict[str, AccountRow] = {}
        self._log_end: int | None = None
        self._last_id: int | None = None
        self._decided_with: dict[str, AccountRow] = {}

    def construct_transcoder(self) -> Transcoder:
        """Deterministic CBOR: bytes stay bytes, CIDs are tag 42."""
        return CborTranscoder()

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Record pending events together with their view changes, atomically.

        Does what `Application.save` does, but collects events from our own aggregates
        directly: the stock path checks each object against two runtime Protocols, ~45 µs a
        commit on the hot path.
        """
        processing_event: ProcessingEvent[str] = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            processing_event.events.extend(obj.collect_events())
            processing_event.aggregates[obj.id] = obj
        for event in processing_event.events:
            # an Account event is ours to project: drop its row (a Repo id is no row's key)
            self._rows.pop(event.originator_id, None)
        kwargs["views"] = [project(event) for event in processing_event.events]
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record_checked(processing_event, {obj.did for obj in objs if obj})
        self._take_snapshots(processing_event)
        self._notify(recordings)
        if self.on_saved is not None:
            self.on_saved()
        return recordings

    def _record_checked(self, processing_event: ProcessingEvent[str], saved: set[str]) -> Any:
        """Record after the log's end as this host knows it, so its cached rows stay true.

        Armed (`_log_end` set), the save must land right after `_log_end`. When another
        writer appended first, the rows this decision used are read again: if any changed
        the decision is void (`AccountsChanged`, a conflict the callers retry); if none did,
        the same events are recorded unchecked and the cache disarms. An unchecked save
        that lands right after this host's previous one shows the log is ours again, and
        re-arms it: a lone writer trusts its rows, busy neighbours keep it reading.
        """
        # Only the rows of the DIDs saved here: a decision that failed, or a signing-key
        # lookup, leaves rows behind that this save did not use.
        used = {did: row for did, row in self._decided_with.items() if did in saved}
        self._decided_with = {}
        follows, previous = self._log_end, self._last_id
        processing_event.saved_kwargs["follows"] = follows
        try:
            try:
                recordings = self._record(processing_event)
            except LogMovedOn:
                self._disarm()
                self._check_unchanged(used)
                processing_event.saved_kwargs["follows"] = follows = previous = None
                recordings = self._record(processing_event)
        except BaseException:
            self._disarm()
            self._last_id = None
            raise
        if self._checks_position and recordings:
            first, self._last_id = recordings[0].notification.id, recordings[-1].notification.id
            if follows is not None or (previous is not None and first == previous + 1):
                self._log_end = self._last_id
            else:
                self._disarm()
        return recordings

    def _disarm(self) -> None:
        self._rows.clear()
        self._log_end = None

    def _check_unchanged(self, used: dict[str, AccountRow]) -> None:
        """Raise `AccountsChanged` if a row a decision used is not what the view says now."""
        if not used or self.accounts is None:
            return
        fresh = self._account_rows(list(used)) or {}
        for did, row in used.items():
            now = fresh.get(did)
            if now is None or (now.status, now.signing_key) != (row.status, row.signing_key):
                raise AccountsChanged(f"account {did} changed while committing")

    # -- loading ----------------------------------------------------------------------------
    def _cached(self, cache: OrderedDict[str, T], key: str, load: Callable[[], T]) -> T:
        item = cache.get(key)
        if item is None:
            item = load()
            cache[key] = item
            if len(cache) > HEAD_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return item

    def _forget(self, did: str) -> None:
        self._repos.pop(did, None)
        self._accounts.pop(did, None)
        self._rows.pop(did, None)

    def get_repo(self, did: str) -> Repo:
        """The Repo aggregate of `did` (cached; raises RepoNotFound)."""
        try:
            return self._cached(self._repos, did, lambda: self.repository.get(repo_id(did)))
        except AggregateNotFoundError as exc:
            raise RepoNotFound(f"could not find repo for DID: {did}") from exc

    def get_account(self, did: str) -> Account:
        """The Account aggregate of `did` (cached; raises RepoNotFound)."""
        try:
            return self._cached(self._accounts, did, lambda: self.repository.get(did))
        except AggregateNotFoundError as exc:
            raise RepoNotFound(f"could not find account for DID: {did}") from exc

    def _next_rev(self, previous: str | None) -> str:
        if previous is not None:
            self.clock.observe(previous)
        return self.clock.next()

    # -- commands ---------------------------------------------------------------------------
    def create_account(
        self, did: str, handle: str, email: str | None, keypair: Keypair
    ) -> RepoCommit:
        """Register an account and its empty repo: `#identity`, `#account`, `#commit`, `#sync`."""
        with self._write_lock:
            self.keys.put(did, keypair)
            account = Account.register(did, handle, email, keypair.did())
            genesis = build_genesis(did, keypair, self._next_rev(None))
            repo = Repo.create(genesis)
            account.change_status("active")
            repo.announce_sync(genesis.commit_block)
            try:
                self.save(account, repo)
            except IntegrityError as exc:
                raise RepoAlreadyExists(f"account {did} already exists") from exc
            self._accounts[did], self._repos[did] = account, repo
            return genesis

    def _retrying(self, did: str, what: str, decide: Callable[[], tuple[tuple[Any, ...], T]]) -> T:
        """Decide over the cached state and save; on a conflict drop the cache and decide again.

        A conflict means another process recorded an event for the same aggregate first
        (optimistic concurrency); deciding again over the fresh state is always safe because
        nothing was recorded.
        """
        with self._write_lock:
            for _attempt in range(MAX_ATTEMPTS):
                aggregates, result = decide()
                try:
                    self.save(*aggregates)
                except IntegrityError:
                    self._forget(did)
                    continue
                except BaseException:
                    self._forget(did)  # its cached head is a commit that was not recorded
                    raise
                return result
        raise RuntimeError(f"could not {what} {did}: too many concurrent writers")

    def _decide_commit(
        self, did: str, repo: Repo, prepared: list[PreparedWrite], swap_commit: CID | None
    ) -> RepoCommit:
        return build_commit(
            did=did,
            head=RepoHead(repo.head, repo.rev, repo.data),
            writes=prepared,
            nodes=self.nodes,
            keypair=self._keypair(did),
            rev=self._next_rev(repo.rev),
            swap_commit=swap_commit,
        )

    def apply_writes(
        self, did: str, writes: list[RecordWrite], swap_commit: CID | None = None
    ) -> RepoCommit:
        """Commit a batch of writes atomically (all or none), retrying on a stale head."""
        prepared = prepare_writes(writes)

        def decide() -> tuple[tuple[Any, ...], RepoCommit]:
            _account, repo = self._writable(did)
            commit = self._decide_commit(did, repo, prepared, swap_commit)
            repo.record_commit(commit)
            return (repo,), commit

        return self._retrying(did, "commit to", decide)

    def apply_writes_batch(
        self, requests: list[tuple[str, list[RecordWrite], CID | None]]
    ) -> list[RepoCommit | Exception]:
        """Decide many commits (any DIDs) and record them all in one transaction.

        Each request fails or succeeds on its own merits; the successful ones share one
        `save()`. If that save conflicts (another process wrote one of the DIDs), the batch
        falls back to committing each request alone, with retries.
        """
        results: list[RepoCommit | Exception] = []
        with self._write_lock:
            rows = self._account_rows([did for did, _, _ in requests])
            touched: dict[str, Repo] = {}
            for did, writes, swap_commit in requests:
                try:
                    _account, repo = self._writable(did, rows)
                    commit = self._decide_commit(did, repo, prepare_writes(writes), swap_commit)
                except Exception as exc:  # a bad request fails alone
                    results.append(exc)
                    continue
                repo.record_commit(commit)
                touched[did] = repo
                results.append(commit)
            if not touched:
                return results
            try:
                self.save(*touched.values())
            except IntegrityError:
                for did in touched:
                    self._forget(did)
                return [self._retry_alone(request) for request in requests]
            except BaseException:
                for did in touched:
                    self._forget(did)  # their cached heads are commits that were not recorded
                raise
        return results

    def _retry_alone(
        self, request: tuple[str, list[RecordWrite], CID | None]
    ) -> RepoCommit | Exception:
        try:
            return self.apply_writes(*request)
        except Exception as exc:
            return exc

    def import_repo(self, did: str, car: bytes) -> RepoCommit:
        """Replace `did`'s repo with a verified CAR (migration), as one `#sync` event."""

        def decide() -> tuple[tuple[Any, ...], RepoCommit]:
            _account, repo = self._writable(did)
            commit = build_import(
                did=did,
                car=car,
                head=RepoHead(repo.head, repo.rev, repo.data),
                nodes=self.nodes,
                keypair=self._keypair(did),
                rev=self._next_rev(repo.rev),
            )
            repo.record_commit(commit, imported=True)
            return (repo,), commit

        return self._retrying(did, "import into", decide)

    def rotate_signing_key(self, did: str, keypair: Keypair) -> RepoCommit:
        """Switch `did` to a new signing key: `#identity`, then a commit signed by the new key."""
        self.keys.put(did, keypair)  # stored first: unused until the log names it

        def decide() -> tuple[tuple[Any, ...], RepoCommit]:
            account, repo = self._writable(did)
            account.rotate_signing_key(keypair.did())
            commit = build_resign(
                did=did,
                head=RepoHead(repo.head, repo.rev, repo.data),
                keypair=keypair,
                rev=self._next_rev(repo.rev),
            )
            repo.record_commit(commit)
            return (account, repo), commit

        return self._retrying(did, "rotate the key of", decide)

    def _change_account(self, did: str, what: str, change: Callable[[Account], None]) -> None:
        """Apply one change to the Account aggregate alone, retried like any command."""

        def decide() -> tuple[tuple[Any, ...], None]:
            account = self.get_account(did)
            change(account)
            return (account,), None

        self._retrying(did, what, decide)

    def change_handle(self, did: str, handle: str) -> None:
        """Record a new handle (`#identity`)."""
        self._change_account(did, "change the handle of", lambda a: a.change_handle(handle))

    def change_email(self, did: str, email: str) -> None:
        """Record a new contact email (in the log and the accounts view, not the firehose)."""
        self._change_account(did, "change the email of", lambda a: a.change_email(email))

    def change_record_takedown(self, did: str, collection: str, rkey: str, ref: str | None) -> None:
        """Take down (`ref`) or restore (None) one record: in the log, not the firehose."""
        self._change_account(
            did,
            "change a record takedown of",
            lambda a: a.change_record_takedown(collection, rkey, ref),
        )

    def change_blob_takedown(self, did: str, cid: CID, ref: str | None) -> None:
        """Take down (`ref`) or restore (None) one blob of `did`: in the log, not the firehose."""
        self._change_account(
            did, "change a blob takedown of", lambda a: a.change_blob_takedown(cid, ref)
        )

    def set_status(self, did: str, status: str) -> None:
        """Activate, deactivate, take down or delete an account (`#account`)."""
        self._change_account(did, "change the status of", lambda a: a.change_status(status))

    def _account_rows(self, dids: list[str]) -> dict[str, AccountRow] | None:
        """The accounts view rows of `dids`: cached ones, the rest in one read (None without
        the view)."""
        if self.accounts is None:
            return None
        cached = self._rows
        rows = {did: cached[did] for did in dids if did in cached}
        missing = [did for did in dict.fromkeys(dids) if did not in rows]
        if len(missing) == 1:
            row = self.accounts.get_account(missing[0])
            if row is not None:
                rows[missing[0]] = row
        elif missing:
            rows.update(self.accounts.get_accounts(missing))
        if self._log_end is not None:
            cached.update(rows)
        return rows

    def _writable(
        self, did: str, rows: dict[str, AccountRow] | None = None
    ) -> tuple[Account, Repo]:
        """The account as the log has it now (status, signing key) and the cached repo head.

        The account row must be current: a takedown or key rotation recorded by another process
        must stop or re-key writes here at once. It comes from the cache while the log is
        ours and is re-read when the save finds it is not (a group commit reads its batch's
        rows at once, `rows`). A stale repo head is caught by optimistic concurrency instead.
        """
        if self.accounts is not None:
            if rows is None:
                rows = self._account_rows([did]) or {}
            row = rows.get(did)
            if row is None:
                raise RepoNotFound(f"could not find account for DID: {did}")
            if row.status != "active":
                raise AccountNotActive(did, row.status)
            self._signing_keys[did] = row.signing_key
            self._decided_with[did] = row
            return self.get_account(did), self.get_repo(did)
        account = self._fresh_account(did)
        self._accounts[did] = account
        self._signing_keys[did] = account.signing_key
        if not account.active:
            raise AccountNotActive(did, account.status)
        return account, self.get_repo(did)

    def _fresh_account(self, did: str) -> Account:
        try:
            account: Account = self.repository.get(did)
        except AggregateNotFoundError as exc:
            raise RepoNotFound(f"could not find account for DID: {did}") from exc
        return account

    def signing_keypair(self, did: str) -> Keypair:
        """The current signing key of an active account, for the tokens it signs."""
        with self._write_lock:
            self._writable(did)
            return self._keypair(did)

    def _keypair(self, did: str) -> Keypair:
        """The private key for the signing key the log says is current."""
        public_key = self._signing_keys.get(did) or self.get_account(did).signing_key
        keypair = self.keys.get(did, public_key)
        if keypair is None:
            raise RepoNotFound(f"no private key held for {did}'s signing key {public_key}")
        return keypair


class RepoAlreadyExists(ValueError):
    """createAccount for a DID that is already hosted."""
