"""The ASGI application: Starlette with every route, error handler and middleware."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route

from adapters.http.account_admin_routes import AccountAdminRoutes
from adapters.http.account_recovery_routes import AccountRecoveryRoutes
from adapters.http.account_routes import AccountRoutes
from adapters.http.admin_auth import AdminAuth
from adapters.http.admin_moderation_routes import AdminModerationRoutes
from adapters.http.admin_routes import AdminRoutes
from adapters.http.appview_queries import HttpAppViewQueries
from adapters.http.auth import BearerAuth
from adapters.http.blob_routes import BlobRoutes
from adapters.http.crawl_routes import CrawlAndImportRoutes
from adapters.http.email_routes import EmailRoutes
from adapters.http.exact_router import ExactPathRouter
from adapters.http.firehose import firehose_routes
from adapters.http.handle_routes import HandleRoutes
from adapters.http.identity_lookup_routes import IdentityLookupRoutes
from adapters.http.identity_routes import IdentityRoutes
from adapters.http.invite_routes import InviteRoutes
from adapters.http.lexicon_routes import LexiconRoutes
from adapters.http.preference_routes import PreferenceRoutes
from adapters.http.proxy_routes import ProxyRoutes
from adapters.http.rate_limit import (
    AccountWriteLimiter,
    IpRateLimitMiddleware,
    Limit,
    RateLimitedCommitter,
)
from adapters.http.repo_routes import RepoRoutes
from adapters.http.report_routes import ReportRoutes
from adapters.http.server_routes import ServerDescription, server_routes
from adapters.http.service_auth_routes import ServiceAuthRoutes
from adapters.http.sync_routes import SyncRoutes
from adapters.http.temp_routes import TempRoutes
from adapters.http.xrpc_errors import (
    XrpcError,
    handle_unexpected,
    handle_xrpc_error,
)
from adapters.http.xrpc_output_check import XrpcOutputCheckMiddleware
from adapters.http.xrpc_params import XrpcParamsMiddleware
from adapters.identity.safe_http import AddressGuard, guarded_client
from adapters.lexicon_files import default_catalog
from adapters.storage.pg_notify_listener import notify_listener
from application.local_records import LocalRecordReader
from application.local_viewer import ImageUrls, LocalViewer
from application.read_after_write import GET_POST_THREAD, ReadAfterWrite
from entrypoints.bootstrap import Services, build_services
from entrypoints.config import Settings


def _proxy_routes(services: Services, auth: BearerAuth) -> ProxyRoutes:
    """Forwarding of unserved methods: configured services directly, client-named ones only
    at public addresses (as identity resolution is guarded)."""
    settings = services.settings
    timeout = httpx.Timeout(30.0, connect=5.0)
    configured = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
    guard = AddressGuard(allow_private=settings.allow_private_identity)
    guarded = guarded_client(guard, timeout=30.0)
    services.extras.setdefault("closers", []).extend([configured.close, guarded.close])
    appview = HttpAppViewQueries(services.extras["proxy"], configured)
    read_after_write = _read_after_write(services, appview)

    def thread(requester: str, uri: str, params: dict[str, Any]) -> dict[str, Any] | None:
        return appview.query(requester, GET_POST_THREAD, {**params, "uri": uri})

    return ProxyRoutes(
        services.extras["proxy"], auth, configured, guarded, read_after_write, thread
    )


def _read_after_write(services: Services, appview: HttpAppViewQueries) -> ReadAfterWrite:
    """The account's own unindexed posts and profile, spliced into AppView answers."""
    views = services.store.views
    images = ImageUrls(services.settings.public_url, services.settings.appview_cdn_url_pattern)
    records = LocalRecordReader(services.host.events, views)

    def viewer(did: str) -> LocalViewer:
        return LocalViewer(did, views, views, images, appview)

    return ReadAfterWrite(records, viewer, default_catalog(), lambda: datetime.now(UTC))


def _handle_routes(services: Services) -> list[BaseRoute]:
    lookup = services.extras["identity_lookup"]
    return HandleRoutes(
        services.views.get_account_by_handle,
        lookup.handle_did,
        services.settings.handle_domains,
    ).routes()


def build_app(services: Services) -> Starlette:
    """The Starlette app over already-built services."""
    settings = services.settings
    auth = BearerAuth(services.sessions.verify_access)
    description = ServerDescription(
        did=settings.service_did,
        available_user_domains=settings.handle_domains,
        invite_code_required=settings.invite_required,
    )
    sync = SyncRoutes(services.reader, services.exporter)
    committer: Any = services.committer
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            max_age=86400,
        )
    ]
    if settings.rate_limits:
        points, window = settings.ip_rate_limit.split("/")
        middleware.append(
            Middleware(IpRateLimitMiddleware, limit=Limit(int(points), float(window)))
        )
        committer = RateLimitedCommitter(
            committer, AccountWriteLimiter(Limit(5000, 3600), Limit(35000, 86400))
        )
    proxy = _proxy_routes(services, auth)
    admin_auth = AdminAuth(settings.admin_password)
    routes: list[BaseRoute] = [
        *server_routes(description),
        *AccountRoutes(
            services.accounts,
            services.sessions,
            auth,
            did_doc=services.extras["identity_lookup"].did_document,
        ).routes(),
        *InviteRoutes(services.extras["invites"], auth).routes(),
        *RepoRoutes(services.host, committer, services.reader, auth, services.validator).routes(),
        *sync.routes(),
        *BlobRoutes(services.blobs, auth, check_repo=sync.check_hosted).routes(),
        *firehose_routes(services.hub),
        *CrawlAndImportRoutes(services.host, auth, services.extras["crawl_requests"]).routes(),
        *_handle_routes(services),
        *IdentityLookupRoutes(services.extras["identity_lookup"]).routes(),
        *LexiconRoutes(services.extras["lexicons"].resolve).routes(),
        *IdentityRoutes(services.extras["identity"], auth).routes(),
        *ServiceAuthRoutes(services.extras["service_auth"], auth).routes(),
        *AccountRecoveryRoutes(services.extras["account_recovery"], auth).routes(),
        *EmailRoutes(services.extras["email"], auth).routes(),
        *PreferenceRoutes(services.extras["preferences"], auth).routes(),
        *TempRoutes(services.accounts, auth).routes(),
        *AdminRoutes(services.extras["admin"], admin_auth).routes(),
        *AdminModerationRoutes(
            services.extras["admin_email"], services.extras["invites"], admin_auth
        ).routes(),
        *ReportRoutes(proxy, auth).routes(),
        *AccountAdminRoutes(
            services.extras["account_admin"], auth, services.accounts.reserve_signing_key
        ).routes(),
        *services.extras.get("routes", []),
    ]
    plc_app = services.extras.get("plc_app")
    if plc_app is not None:
        routes.append(Mount("/plc", app=plc_app))
    served = frozenset(
        route.path.removeprefix("/xrpc/")
        for route in routes
        if isinstance(route, Route) and route.path.startswith("/xrpc/")
    )
    middleware.append(Middleware(XrpcParamsMiddleware, catalog=default_catalog(), served=served))
    if settings.validate_output:
        middleware.append(
            Middleware(XrpcOutputCheckMiddleware, catalog=default_catalog(), served=served)
        )
    routes.extend(proxy.routes())  # the catch-all comes last

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.hub.start()
        store = services.store
        listener = notify_listener(
            store.dialect, store.conninfo, services.host.recorder, services.hub.notify
        )
        if listener is not None:  # Postgres: writes from other processes wake our tail
            await listener.start()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await services.hub.stop()

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=middleware,
        exception_handlers={XrpcError: handle_xrpc_error, Exception: handle_unexpected},
    )
    app.router = ExactPathRouter(routes, lifespan=lifespan)
    # Bounded reads run on the loop against embedded SQLite (`adapters/http/xrpc.py:read`).
    app.state.inline_reads = services.store.dialect == "sqlite"
    return app


def create_app(settings: Settings) -> Any:
    """Build services and the application for `settings`."""
    return build_app(build_services(settings))
