"""The read side of the views over SQL: implements `BlockStore` and `RepoViews`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.storage.block_index import BlockIndex
from adapters.storage.connections import ReadConnections
from application.ports.repo_views import SeqEvent
from application.views import AccountRow, RepoHeadRow
from domain.data.cid import CID


def _q(dialect: str, sql: str) -> str:
    """Write queries once with `?` placeholders; psycopg wants `%s`."""
    return sql if dialect == "sqlite" else sql.replace("?", "%s")


class SqlViews:
    """Queries over the view tables, for both SQLite and Postgres."""

    def __init__(self, connections: ReadConnections, index: BlockIndex | None = None) -> None:
        self.db = connections
        self.index = index
        """The block index kept behind the log, whose newest blocks are held in memory
        (ADR 0014); None where blocks are written with their commit."""
        d = connections.dialect
        self._sql = {name: _q(d, text) for name, text in _QUERIES.items()}

    def _all(self, name: str, params: tuple[Any, ...]) -> list[Any]:
        with self.db.cursor() as cur:
            cur.execute(self._sql[name], params)
            rows: list[Any] = cur.fetchall()
            return rows

    def _one(self, name: str, params: tuple[Any, ...]) -> Any:
        with self.db.cursor() as cur:
            cur.execute(self._sql[name], params)
            return cur.fetchone()

    # -- BlockStore -----------------------------------------------------------------------
    def get_block(self, cid: CID) -> bytes | None:
        """The bytes of `cid`, or None."""
        index = self.index
        if index is not None:
            held = index.pending.get_many([cid.raw])
            if held:
                return held[cid.raw]
        row = self._one("block", (cid.raw,))
        if row:
            return bytes(row[0])
        if index is not None and index.refresh():
            return index.pending.get_many([cid.raw]).get(cid.raw)
        return None

    def get_blocks(self, cids: Iterable[CID]) -> dict[CID, bytes]:
        """Every stored block among `cids`.

        With a block index behind the log, held blocks first, then the index: a pass drops
        blocks from memory only after its transaction has put them in the index.
        """
        wanted = {cid.raw: cid for cid in cids}
        found: dict[CID, bytes] = {}
        index = self.index
        keys = list(wanted)
        if index is not None:
            for raw, data in index.pending.get_many(keys).items():
                found[wanted[raw]] = data
            keys = [raw for raw in keys if wanted[raw] not in found]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = _q(self.db.dialect, f"SELECT cid, data FROM repo_blocks WHERE cid IN ({marks})")
            with self.db.cursor() as cur:
                cur.execute(sql, tuple(chunk))
                for raw, data in cur.fetchall():
                    found[wanted[bytes(raw)]] = bytes(data)
        if index is not None and len(found) < len(wanted) and index.refresh():
            missing = [raw for raw, cid in wanted.items() if cid not in found]
            for raw, data in index.pending.get_many(missing).items():
                found[wanted[raw]] = data
        return found

    # -- RepoViews ------------------------------------------------------------------------
    def get_head(self, did: str) -> RepoHeadRow | None:
        """The current head of `did`'s repo."""
        row = self._one("head", (did,))
        return _head(row) if row else None

    def list_heads(self, after_did: str | None, limit: int) -> list[RepoHeadRow]:
        """Heads ordered by DID after `after_did`."""
        return [_head(row) for row in self._all("heads", (after_did or "", limit))]

    def list_dids_with_collection(
        self, collection: str, after_did: str | None, limit: int
    ) -> list[str]:
        """Active accounts' DIDs with a record in `collection`, ordered as `list_heads`.

        One probe of the records key (did, collection) per repo after the cursor, not a scan
        of the records table, and no (collection, did) index to maintain on every commit.
        """
        rows = self._all("dids_with_collection", (after_did or "", collection, limit))
        return [row[0] for row in rows]

    def get_account(self, did: str) -> AccountRow | None:
        """The account row of `did`."""
        row = self._one("account", (did,))
        return AccountRow(*row) if row else None

    def get_accounts(self, dids: list[str]) -> dict[str, AccountRow]:
        """The rows of those `dids` that exist, in one query per 500."""
        found: dict[str, AccountRow] = {}
        for start in range(0, len(dids), 500):
            chunk = tuple(dids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            sql = _q(
                self.db.dialect,
                "SELECT did, handle, email, status, signing_key FROM accounts "
                f"WHERE did IN ({marks})",
            )
            with self.db.cursor() as cur:
                cur.execute(sql, chunk)
                for row in cur.fetchall():
                    found[row[0]] = AccountRow(*row)
        return found

    def get_account_by_handle(self, handle: str) -> AccountRow | None:
        """The account row with `handle` (handles are stored lowercased)."""
        row = self._one("account_by_handle", (handle.lower(),))
        return AccountRow(*row) if row else None

    def get_account_by_email(self, email: str) -> AccountRow | None:
        """The account row with `email` (stored lowercased)."""
        row = self._one("account_by_email", (email.lower(),))
        return AccountRow(*row) if row else None

    def list_accounts(self) -> list[AccountRow]:
        """Every account, by DID."""
        return [AccountRow(*row) for row in self._all("accounts", ())]

    def search_accounts(self, email_prefix: str | None, after: str, limit: int) -> list[AccountRow]:
        """Up to `limit` undeleted accounts after DID `after`, by DID; with `email_prefix`,
        only those whose (lower-cased) address starts with it."""
        if not email_prefix:
            return [AccountRow(*row) for row in self._all("accounts_page", (after, limit))]
        pattern = _like_escape(email_prefix.lower()) + "%"
        rows = self._all("accounts_by_email_prefix", (after, pattern, limit))
        return [AccountRow(*row) for row in rows]

    def get_record_cid(self, did: str, collection: str, rkey: str) -> CID | None:
        """The CID of a current record."""
        row = self._one("record", (did, collection, rkey))
        return CID(bytes(row[0])) if row else None

    def get_record_takedown(self, did: str, collection: str, rkey: str) -> str | None:
        """The reference of the takedown applied to a record, or None."""
        row = self._one("record_takedown", (did, collection, rkey))
        return str(row[0]) if row else None

    def get_blob_takedown(self, did: str, cid: CID) -> str | None:
        """The reference of the takedown applied to `did`'s blob `cid`, or None."""
        row = self._one("blob_takedown", (did, cid.raw))
        return str(row[0]) if row else None

    def blob_referenced(self, did: str, cid: CID) -> bool:
        """Whether a current record of `did` references the blob `cid`."""
        return self._one("blob_referenced", (did, cid.raw)) is not None

    def list_records(
        self, did: str, collection: str, *, limit: int, cursor: str | None, reverse: bool
    ) -> list[tuple[str, CID]]:
        """(rkey, cid) pages; newest (highest rkey) first unless `reverse`.

        Taken-down records are left out, as the reference's `listRecords` leaves them out.
        """
        if reverse:
            rows = self._all("records_asc", (did, collection, cursor or "", limit))
        elif cursor is None:
            rows = self._all("records_desc_first", (did, collection, limit))
        else:
            rows = self._all("records_desc", (did, collection, cursor, limit))
        return [(rkey, CID(bytes(cid))) for rkey, cid in rows]

    def list_collections(self, did: str) -> list[str]:
        """Distinct collections of `did`."""
        return [row[0] for row in self._all("collections", (did,))]

    def count_records(self, did: str) -> int:
        """How many records `did` has."""
        return int(self._one("count_records", (did,))[0])

    def list_blobs(self, did: str, after: bytes, limit: int) -> list[CID]:
        """Distinct blob CIDs referenced by `did`'s records, ordered by CID bytes."""
        return [CID(bytes(row[0])) for row in self._all("blobs", (did, after, limit))]

    def seq_after(self, seq: int, limit: int) -> list[SeqEvent]:
        """Seq events after `seq`."""
        return [
            SeqEvent(int(s), did, kind, time, bytes(frame))
            for s, did, kind, time, frame in self._all("seq_after", (seq, limit))
        ]

    def max_seq(self) -> int:
        """Highest seq, 0 when empty."""
        row = self._one("max_seq", ())
        return int(row[0]) if row and row[0] is not None else 0

    def min_seq_since(self, time: str) -> int | None:
        """Lowest seq at or after `time`."""
        row = self._one("min_seq_since", (time,))
        return int(row[0]) if row and row[0] is not None else None


def _like_escape(text: str) -> str:
    """`text` matched literally by LIKE (with `ESCAPE '\\'`): `%` and `_` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _head(row: Any) -> RepoHeadRow:
    did, commit, rev, data = row
    return RepoHeadRow(did, CID(bytes(commit)), rev, CID(bytes(data)))


_NOT_TAKEN_DOWN = (
    "NOT EXISTS (SELECT 1 FROM record_takedowns t "
    "WHERE t.did = r.did AND t.collection = r.collection AND t.rkey = r.rkey)"
)

_QUERIES = {
    "block": "SELECT data FROM repo_blocks WHERE cid = ?",
    "head": "SELECT did, commit_cid, rev, data_cid FROM repo_heads WHERE did = ?",
    "heads": "SELECT did, commit_cid, rev, data_cid FROM repo_heads WHERE did > ? "
    "ORDER BY did LIMIT ?",
    # A scalar subquery with LIMIT 1, not EXISTS: Postgres turns EXISTS into a semi join and,
    # for a rare collection, scans all of `records`; this stays one key probe per repo on
    # both databases (ADR 0017).
    "dids_with_collection": "SELECT h.did FROM repo_heads h JOIN accounts a ON a.did = h.did "
    "WHERE h.did > ? AND a.status = 'active' AND (SELECT 1 FROM records r "
    "WHERE r.did = h.did AND r.collection = ? LIMIT 1) IS NOT NULL ORDER BY h.did LIMIT ?",
    "account": "SELECT did, handle, email, status, signing_key FROM accounts WHERE did = ?",
    "account_by_handle": "SELECT did, handle, email, status, signing_key FROM accounts "
    "WHERE handle = ?",
    "account_by_email": "SELECT did, handle, email, status, signing_key FROM accounts "
    "WHERE email = ?",
    "accounts": "SELECT did, handle, email, status, signing_key FROM accounts ORDER BY did",
    "accounts_page": "SELECT did, handle, email, status, signing_key FROM accounts "
    "WHERE did > ? AND status <> 'deleted' ORDER BY did LIMIT ?",
    # Addresses are stored lower-cased, so a lower-cased pattern matches case-insensitively on
    # both databases (SQLite's LIKE ignores ASCII case anyway; Postgres's does not).
    "accounts_by_email_prefix": "SELECT did, handle, email, status, signing_key FROM accounts "
    "WHERE did > ? AND email LIKE ? ESCAPE '\\' AND status <> 'deleted' ORDER BY did LIMIT ?",
    "record": "SELECT cid FROM records WHERE did = ? AND collection = ? AND rkey = ?",
    "record_takedown": "SELECT ref FROM record_takedowns "
    "WHERE did = ? AND collection = ? AND rkey = ?",
    "blob_takedown": "SELECT ref FROM blob_takedowns WHERE did = ? AND cid = ?",
    "blob_referenced": "SELECT 1 FROM record_blobs WHERE did = ? AND cid = ? LIMIT 1",
    "records_asc": "SELECT rkey, cid FROM records r WHERE did = ? AND collection = ? AND rkey > ? "
    f"AND {_NOT_TAKEN_DOWN} ORDER BY rkey ASC LIMIT ?",
    "records_desc_first": "SELECT rkey, cid FROM records r WHERE did = ? AND collection = ? "
    f"AND {_NOT_TAKEN_DOWN} ORDER BY rkey DESC LIMIT ?",
    "records_desc": "SELECT rkey, cid FROM records r WHERE did = ? AND collection = ? AND rkey < ? "
    f"AND {_NOT_TAKEN_DOWN} ORDER BY rkey DESC LIMIT ?",
    "collections": "SELECT DISTINCT collection FROM records WHERE did = ? ORDER BY collection",
    "count_records": "SELECT COUNT(*) FROM records WHERE did = ?",
    "blobs": "SELECT DISTINCT cid FROM record_blobs WHERE did = ? AND cid > ? ORDER BY cid LIMIT ?",
    "seq_after": "SELECT seq, did, kind, time, frame FROM seq_events WHERE seq > ? "
    "ORDER BY seq LIMIT ?",
    "max_seq": "SELECT MAX(seq) FROM seq_events",
    "min_seq_since": "SELECT MIN(seq) FROM seq_events WHERE time >= ?",
}
