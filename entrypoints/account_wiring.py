"""Wiring for identity updates and account administration (`extras["identity"]`,
`extras["account_admin"]`), shared by the server and the `quire account` commands."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy.engine import Engine

from adapters.identity.log_token_channel import LogTokenChannel
from adapters.identity.resolver import Resolver
from adapters.storage.sql_blob_index import SqlBlobIndex
from adapters.storage.sql_credential_store import SqlCredentialStore
from adapters.storage.sql_operator_tokens import SqlOperatorTokens
from adapters.storage.sql_views import SqlViews
from application.account_admin import AccountAdmin
from application.handle_policy import HandlePolicy
from application.identity_service import IdentityService
from application.operator_tokens import OperatorTokens
from application.ports.key_store import KeyStore
from application.ports.plc_client import PlcClient
from application.repo_host.app import RepoHost
from domain.crypto.k256 import K256Keypair
from entrypoints.config import Settings
from entrypoints.server_secrets import ServerSecrets


class LazyHandleResolver:
    """Builds the network resolver on the first external-handle update, not at startup:
    most processes (tests, CLI commands) never need one."""

    def __init__(self, plc: PlcClient) -> None:
        self._plc = plc
        self._resolver: Resolver | None = None
        self._lock = threading.Lock()

    def resolve_handle(self, handle: str, *, force_refresh: bool = False) -> str | None:
        with self._lock:
            if self._resolver is None:
                self._resolver = Resolver(self._plc)
        return self._resolver.resolve_handle(handle, force_refresh=force_refresh)


def wire_account_admin(
    settings: Settings,
    server: ServerSecrets,
    host: RepoHost,
    views: SqlViews,
    keys: KeyStore,
    engine: Engine,
    extras: dict[str, Any],
) -> None:
    """Build `IdentityService` and `AccountAdmin` over the store and the PLC client (and
    the reserved handles in `extras`, when there are any to respect)."""
    plc: PlcClient = extras["plc_client"]
    tokens = OperatorTokens(SqlOperatorTokens(engine), LogTokenChannel(), time.time)
    identity = IdentityService(
        host,
        views,
        keys,
        plc,
        HandlePolicy(
            views,
            LazyHandleResolver(plc),
            settings.handle_domains,
            extras.get("reserved_handles"),
        ),
        tokens,
        rotation_key=server.plc_rotation_key,
        pds_endpoint=settings.public_url,
        new_keypair=K256Keypair.generate,
    )
    extras["identity"] = identity
    extras["operator_tokens"] = tokens
    extras["account_admin"] = AccountAdmin(
        host, identity, views, SqlBlobIndex(engine), SqlCredentialStore(engine), tokens
    )
