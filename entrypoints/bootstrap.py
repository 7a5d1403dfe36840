"""The composition root: the one place that picks concrete adapters for the ports."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import punq

from adapters.blob.disk_blob_store import DiskBlobStore
from adapters.http.relay_notifier import HttpRelayNotifier
from adapters.identity.resolver import Resolver, ResolverConfig
from adapters.lexicon_files import default_catalog
from adapters.mail.log_mailer import LogMailer
from adapters.security.argon2_hasher import FAST_FOR_TESTS, OWASP, Argon2Hasher
from adapters.security.jwt_hs256 import HS256Signer
from adapters.storage.account_lookup import ViewAccountLookup
from adapters.storage.crawl_requests import SqlCrawlRequests
from adapters.storage.disk_car_cache import DiskCarCache
from adapters.storage.seq_pruner import SqlSeqPruner
from adapters.storage.sql_blob_index import SqlBlobIndex
from adapters.storage.sql_credential_store import SqlCredentialStore
from adapters.storage.sql_invite_codes import SqlInviteCodes
from adapters.storage.sql_key_store import SqlKeyStore, engine_for
from adapters.storage.sql_preferences import SqlPreferences
from adapters.storage.sql_reserved_handles import SqlReservedHandles
from adapters.storage.sql_views import SqlViews
from adapters.storage.store import Store, postgres_store, sqlite_store
from application.account_recovery import AccountRecovery
from application.accounts import AccountService
from application.admin_email import AdminEmail
from application.admin_service import AdminService
from application.blobs import BlobService
from application.crawlers import Crawlers
from application.email_verification import EmailVerification
from application.firehose.hub import FirehoseHub
from application.identity_lookup import IdentityLookup
from application.invite_codes import InviteCodes
from application.lexicon_validator import LexiconRecordValidator
from application.ports.car_cache import CarCache
from application.ports.did_registrar import DidRegistrar
from application.preferences import Preferences
from application.repo_export import RepoExporter
from application.repo_host.app import RepoHost
from application.repo_host.group_commit import GroupCommitter
from application.repo_reads import RepoReader
from application.reserved_handles import ReservedHandles
from application.service_auth import ServiceAuth
from application.service_proxy import CREATE_REPORT, DefaultService, ServiceProxy
from application.sessions import SessionService
from domain.crypto.k256 import K256Keypair
from domain.data.tid import TidClock
from entrypoints.config import Settings
from entrypoints.lexicon_wiring import build_lexicons
from entrypoints.server_secrets import ServerSecrets, load_or_create


def open_store(settings: Settings, *, create: bool = True) -> Store:
    """SQLite in the data directory unless a Postgres URL is configured.

    `create=False` is the auditors' read-only opening: no schema created, no checkpointer.
    """
    if settings.database_url:
        return postgres_store(settings.database_url, schema=settings.db_schema, create=create)
    return sqlite_store(settings.data_dir, create=create, checkpoint=create)


@dataclass
class Services:
    """Everything the ASGI app and the CLI commands use, built once."""

    settings: Settings
    store: Store
    host: RepoHost
    committer: GroupCommitter
    blobs: BlobService
    hub: FirehoseHub
    reader: RepoReader
    exporter: RepoExporter
    sessions: SessionService
    accounts: AccountService
    validator: LexiconRecordValidator
    extras: dict[str, Any]

    @property
    def views(self) -> SqlViews:
        """The read side of the views."""
        return self.store.views

    def close(self) -> None:
        """Finish queued writes and release connections."""
        self.committer.close()
        self.host.close()
        self.store.close()
        for close in self.extras.get("closers", []):
            close()


def _registrar(settings: Settings, server: ServerSecrets, extras: dict[str, Any]) -> DidRegistrar:
    """did:plc through the embedded directory, or a remote one when `--plc-url` is set."""
    from entrypoints.identity_wiring import build_registrar

    return build_registrar(settings, server, extras)


def car_cache(settings: Settings) -> CarCache | None:
    """The full-export CAR cache in the data directory, or None when its budget is 0."""
    if settings.car_cache_mb <= 0:
        return None
    return DiskCarCache(settings.data_dir / "car-cache", settings.car_cache_mb * 1024 * 1024)


def build_container(settings: Settings) -> punq.Container:
    """Register every component; resolving `Services` builds the graph."""
    container = punq.Container()
    container.register(Settings, instance=settings)
    server = load_or_create(settings.data_dir)
    store = open_store(settings)
    container.register(Store, instance=store)
    engine = engine_for(store.dialect, store.conninfo, settings.db_schema)
    keys = SqlKeyStore(engine)
    hub = FirehoseHub(
        store.views, pruner=SqlSeqPruner(store.dialect, store.conninfo, settings.db_schema)
    )
    crawlers = Crawlers(settings.relays, settings.hostname, HttpRelayNotifier())

    def on_saved() -> None:
        hub.notify()
        crawlers.notify_of_update()

    host = RepoHost(
        store.env,
        blocks=store.views,
        keys=keys,
        clock=TidClock(clock_id=secrets.randbelow(1024)),
        on_saved=on_saved,
        accounts=store.views,
    )
    lookup = ViewAccountLookup(store.views)
    sessions = SessionService(
        SqlCredentialStore(engine),
        Argon2Hasher(FAST_FOR_TESTS if settings.fast_password_hashing else OWASP),
        HS256Signer(server.jwt_secret),
        lookup,
        time.time,
        service_did=settings.service_did,
    )
    extras: dict[str, Any] = {"crawl_requests": SqlCrawlRequests(engine)}
    invites = InviteCodes(
        SqlInviteCodes(engine), settings.hostname, time.time, required=settings.invite_required
    )
    extras["invites"] = invites
    reserved = ReservedHandles(SqlReservedHandles(engine), time.time)
    extras["reserved_handles"] = reserved
    registrar = _registrar(settings, server, extras)  # also puts the PLC client in extras
    resolver = Resolver(
        extras["plc_client"],
        ResolverConfig(
            allow_private=settings.allow_private_identity,
            dns_nameservers=settings.dns_servers,
            dns_port=settings.dns_port,
        ),
    )
    extras["identity_lookup"] = IdentityLookup(resolver, store.views)
    accounts = AccountService(
        host,
        sessions,
        registrar,
        store.views,
        handle_domains=settings.handle_domains,
        pds_endpoint=settings.public_url,
        new_keypair=K256Keypair.generate,
        resolver=resolver,
        keys=keys,
        invites=invites,
        reserved=reserved,
    )
    from entrypoints.account_wiring import wire_account_admin

    wire_account_admin(settings, server, host, store.views, keys, engine, extras)
    extras["service_auth"] = ServiceAuth(host.signing_keypair, time.time)
    extras["account_recovery"] = AccountRecovery(
        host, sessions, extras["operator_tokens"], store.views
    )
    extras["email"] = EmailVerification(host, sessions, extras["operator_tokens"], store.views)
    extras["admin"] = AdminService(
        host,
        extras["account_admin"],
        invites,
        sessions,
        store.views,
        extras["identity"],
        reserved,
    )
    extras["admin_email"] = AdminEmail(store.views, LogMailer())
    defaults: tuple[DefaultService, ...] = ()
    if settings.appview_url and settings.appview_did:
        defaults = (DefaultService("app.bsky.", settings.appview_did, settings.appview_url),)
    if settings.report_service_url and settings.report_service_did:
        report = settings.report_service_did, settings.report_service_url
        defaults += (DefaultService(CREATE_REPORT, *report),)
    extras["proxy"] = ServiceProxy(resolver, extras["service_auth"], defaults)
    extras["preferences"] = Preferences(SqlPreferences(engine))
    container.register(FirehoseHub, instance=hub)
    container.register(RepoHost, instance=host)
    # SQLite commits are local work: recorded on the event loop. Postgres waits on the
    # network, so its commits go through the writer thread and never stall the loop.
    on_loop = store.dialect == "sqlite"
    container.register(GroupCommitter, instance=GroupCommitter(host, on_loop=on_loop))
    blobs = BlobService(
        DiskBlobStore(settings.data_dir / "blobs"),
        SqlBlobIndex(engine),
        time.time,
        takedowns=store.views,
    )
    container.register(BlobService, instance=blobs)
    container.register(RepoReader, instance=RepoReader(store.views, store.views))
    exporter = RepoExporter(store.views, store.views, cache=car_cache(settings))
    container.register(RepoExporter, instance=exporter)
    extras["lexicons"] = build_lexicons(resolver, store.views, exporter)
    extras.setdefault("closers", []).append(extras["lexicons"].close)
    container.register(SessionService, instance=sessions)
    container.register(AccountService, instance=accounts)
    container.register(LexiconRecordValidator, instance=LexiconRecordValidator(default_catalog()))
    container.register(dict[str, Any], instance=extras)
    container.register(Services, factory=Services)
    return container


def build_services(settings: Settings) -> Services:
    """Wire everything for `settings`."""
    container = build_container(settings)
    services = Services(
        settings=container.resolve(Settings),
        store=container.resolve(Store),
        host=container.resolve(RepoHost),
        committer=container.resolve(GroupCommitter),
        blobs=container.resolve(BlobService),
        hub=container.resolve(FirehoseHub),
        reader=container.resolve(RepoReader),
        exporter=container.resolve(RepoExporter),
        sessions=container.resolve(SessionService),
        accounts=container.resolve(AccountService),
        validator=container.resolve(LexiconRecordValidator),
        extras=container.resolve(dict[str, Any]),
    )
    return services
