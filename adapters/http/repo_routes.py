"""`com.atproto.repo.*`: record writes and reads over RepoHost and the views."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.http.auth import BearerAuth
from adapters.http.error_mapping import to_xrpc
from adapters.http.xrpc import bool_param, data_model, int_param, json_body, ok, param, read
from adapters.http.xrpc_errors import XrpcError, invalid_request
from application.ports.record_validator import InvalidRecord, RecordValidator
from application.repo_host.app import RepoHost
from application.repo_host.group_commit import GroupCommitter
from application.repo_reads import RepoReader
from domain.data import atjson
from domain.data.cid import CID
from domain.data.errors import InvalidCid
from domain.repo.errors import RepoNotFound
from domain.repo.repo_commit import RepoCommit
from domain.repo.writes import RecordWrite
from domain.syntax import is_valid_at_identifier, is_valid_nsid, is_valid_record_key

NS = "/xrpc/com.atproto.repo."
_ACTIONS = {
    "com.atproto.repo.applyWrites#create": "create",
    # An update must find the record (RecordNotFound otherwise), as in the reference; only
    # putRecord creates or updates.
    "com.atproto.repo.applyWrites#update": "update",
    "com.atproto.repo.applyWrites#delete": "delete",
}


def _cid(value: Any, name: str) -> CID | None:
    if value is None:
        return None
    if type(value) is not str:
        raise invalid_request(f"{name} must be a CID string")
    try:
        return CID.parse(value)
    except InvalidCid as exc:
        raise invalid_request(f"{name} is not a valid CID") from exc


def _str(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_request(f'Input must have the property "{name}"')
        return None
    if type(value) is not str:
        raise invalid_request(f"Input/{name} must be a string")
    return value


def _repo(value: str | None) -> str:
    """A `repo` input: a DID or a handle by syntax (400), before any lookup (404)."""
    if value is None or not is_valid_at_identifier(value):
        raise invalid_request("Error: repo must be a valid did or a handle")
    return value


def _written(did: str, commit: RepoCommit, status: str) -> JSONResponse:
    """createRecord / putRecord output: the record written by the commit's only op."""
    op = commit.ops[0]
    return ok(
        {
            "uri": f"at://{did}/{op.path}",
            "cid": str(op.cid),
            "commit": _commit_meta(commit),
            "validationStatus": status,
        }
    )


def _commit_meta(commit: RepoCommit) -> dict[str, str]:
    return {"cid": str(commit.commit), "rev": commit.rev}


class RepoRoutes:
    """Handlers bound to the application services they need."""

    def __init__(
        self,
        host: RepoHost,
        committer: GroupCommitter,
        reader: RepoReader,
        auth: BearerAuth,
        validator: RecordValidator,
    ) -> None:
        self.host, self.committer, self.reader = host, committer, reader
        self.auth, self.validator = auth, validator

    async def _commit(
        self, did: str, writes: list[RecordWrite], swap_commit: CID | None
    ) -> RepoCommit:
        """Commit through the group committer (on this loop), mapping domain errors."""
        try:
            return await self.committer.commit(did, writes, swap_commit)
        except Exception as exc:
            mapped = to_xrpc(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def _own_repo(self, request: Request, repo: str) -> str:
        did = self.auth.require(request)
        if repo == did:
            return did
        try:
            account = self.reader.resolve_repo(repo)
        except RepoNotFound as exc:  # an unknown repo is a 404, not a crash
            raise XrpcError(404, "RepoNotFound", str(exc)) from exc
        if account.did != did:  # as the reference PDS answers: AuthRequiredError
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        return did

    def _rkey_or_tid(self, rkey: str | None) -> str:
        """The given record key (even an invalid empty one), or a fresh TID when absent."""
        return self.host.clock.next() if rkey is None else rkey

    def _validate(self, collection: str, rkey: str, record: Any, validate: Any) -> str:
        if validate is not None and type(validate) is not bool:
            raise invalid_request("Input/validate must be a boolean")
        try:
            return self.validator.validate(collection, rkey, record, validate)
        except InvalidRecord as exc:
            raise invalid_request(f"Invalid {collection} record: {exc}") from exc

    def _record_write(self, body: dict[str, Any], action: str, rkey: str) -> RecordWrite:
        collection = _str(body, "collection")
        assert collection is not None
        if not is_valid_nsid(collection):
            raise invalid_request(f"Invalid collection: {collection}")
        if not is_valid_record_key(rkey):
            raise invalid_request(f"Invalid record key: {rkey}")
        record = data_model(body.get("record"), "record")
        if type(record) is not dict:
            raise invalid_request("Input/record must be an object")
        record.setdefault("$type", collection)
        return RecordWrite(action, collection, rkey, record)

    async def create_record(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        did = self._own_repo(request, _repo(_str(body, "repo")))
        rkey = self._rkey_or_tid(_str(body, "rkey", required=False))
        write = self._record_write(body, "create", rkey)
        status = self._validate(write.collection, rkey, write.record, body.get("validate"))
        commit = await self._commit(did, [write], _cid(body.get("swapCommit"), "swapCommit"))
        return _written(did, commit, status)

    async def put_record(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        did = self._own_repo(request, _repo(_str(body, "repo")))
        rkey = _str(body, "rkey") or ""
        swap_present = "swapRecord" in body
        swap = _cid(body.get("swapRecord"), "swapRecord")
        action = "create" if swap_present and swap is None else ("update" if swap else "put")
        write = self._record_write(body, action, rkey)
        write = RecordWrite(write.action, write.collection, rkey, write.record, swap)
        status = self._validate(write.collection, rkey, write.record, body.get("validate"))
        try:
            commit = await self._commit(did, [write], _cid(body.get("swapCommit"), "swapCommit"))
        except XrpcError as exc:
            if action == "create" and exc.error == "RecordAlreadyExists":
                # `swapRecord: null` is a compare-and-swap against "absent": a lost swap.
                raise XrpcError(400, "InvalidSwap", exc.message) from exc
            raise
        return _written(did, commit, status)

    async def delete_record(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        did = self._own_repo(request, _repo(_str(body, "repo")))
        collection, rkey = _str(body, "collection") or "", _str(body, "rkey") or ""
        if not is_valid_nsid(collection) or not is_valid_record_key(rkey):
            raise invalid_request("Invalid collection or record key")
        swap = _cid(body.get("swapRecord"), "swapRecord")
        swap_commit = _cid(body.get("swapCommit"), "swapCommit")
        current = self.reader.views.get_record_cid(did, collection, rkey)
        if current is None and swap is None and swap_commit is None:
            return ok({})  # deleting what is not there is a no-op, as in the reference PDS
        write = RecordWrite("delete", collection, rkey, None, swap)
        commit = await self._commit(did, [write], swap_commit)
        return ok({"commit": _commit_meta(commit)})

    async def apply_writes(self, request: Request) -> JSONResponse:
        body = await json_body(request)
        did = self._own_repo(request, _repo(_str(body, "repo")))
        raw_writes = body.get("writes")
        if type(raw_writes) is not list or not raw_writes:
            raise invalid_request("Input/writes must be a non-empty array")
        writes: list[RecordWrite] = []
        statuses: list[str | None] = []
        for item in raw_writes:
            if type(item) is not dict or item.get("$type") not in _ACTIONS:
                raise invalid_request("each write must be a #create, #update or #delete")
            action = _ACTIONS[item["$type"]]
            rkey = self._rkey_or_tid(_str(item, "rkey", required=action != "create"))
            if action == "delete":
                collection = _str(item, "collection") or ""
                if not is_valid_nsid(collection) or not is_valid_record_key(rkey):
                    raise invalid_request("Invalid collection or record key")
                writes.append(RecordWrite("delete", collection, rkey))
                statuses.append(None)
                continue
            write = self._record_write({**item, "record": item.get("value")}, action, rkey)
            writes.append(write)
            statuses.append(
                self._validate(write.collection, rkey, write.record, body.get("validate"))
            )
        commit = await self._commit(did, writes, _cid(body.get("swapCommit"), "swapCommit"))
        results = []
        for op, status in zip(commit.ops, statuses, strict=True):
            kind = {"create": "createResult", "update": "updateResult"}.get(
                op.action, "deleteResult"
            )
            result: dict[str, Any] = {"$type": f"com.atproto.repo.applyWrites#{kind}"}
            if op.action != "delete":
                result.update(uri=f"at://{did}/{op.path}", cid=str(op.cid), validationStatus=status)
            results.append(result)
        return ok({"commit": _commit_meta(commit), "results": results})

    async def get_record(self, request: Request) -> JSONResponse:
        account = await read(request, self.reader.resolve_repo, _repo(param(request, "repo")))
        collection, rkey = param(request, "collection") or "", param(request, "rkey") or ""
        if not is_valid_nsid(collection):
            raise invalid_request(f"Invalid collection: {collection}")
        if not is_valid_record_key(rkey):
            raise invalid_request(f"Invalid record key: {rkey}")
        cid = _cid(param(request, "cid", required=False), "cid")
        record = await read(request, self.reader.get_record, account.did, collection, rkey, cid)
        return ok(
            {"uri": record.uri, "cid": str(record.cid), "value": atjson.to_json(record.value)}
        )

    async def list_records(self, request: Request) -> JSONResponse:
        account = await read(request, self.reader.resolve_repo, _repo(param(request, "repo")))
        collection = param(request, "collection") or ""
        if not is_valid_nsid(collection):
            raise invalid_request(f"Invalid collection: {collection}")
        limit = int_param(request, "limit", 50, 1, 100)
        cursor = param(request, "cursor", required=False)
        reverse = bool_param(request, "reverse")
        records, next_cursor = await read(
            request,
            self.reader.list_records, account.did, collection,
            limit=limit, cursor=cursor, reverse=reverse,
        )  # fmt: skip
        out: dict[str, Any] = {
            "records": [
                {"uri": r.uri, "cid": str(r.cid), "value": atjson.to_json(r.value)} for r in records
            ]
        }
        if next_cursor is not None:
            out["cursor"] = next_cursor
        return ok(out)

    async def describe_repo(self, request: Request) -> JSONResponse:
        account = await read(request, self.reader.resolve_repo, _repo(param(request, "repo")))
        collections = await read(request, self.reader.views.list_collections, account.did)
        return ok(
            {
                "handle": account.handle,
                "did": account.did,
                "didDoc": {},
                "collections": collections,
                "handleIsCorrect": True,
            }
        )

    def routes(self) -> list[Route]:
        """Every `com.atproto.repo.*` route."""
        return [
            Route(NS + "createRecord", self.create_record, methods=["POST"]),
            Route(NS + "putRecord", self.put_record, methods=["POST"]),
            Route(NS + "deleteRecord", self.delete_record, methods=["POST"]),
            Route(NS + "applyWrites", self.apply_writes, methods=["POST"]),
            Route(NS + "getRecord", self.get_record, methods=["GET"]),
            Route(NS + "listRecords", self.list_records, methods=["GET"]),
            Route(NS + "describeRepo", self.describe_repo, methods=["GET"]),
        ]
