"""Server settings from command-line flags and `QUIRE_*` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"QUIRE_{name}", default)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `quire serve` needs to start; flags override the environment."""

    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "2583")))
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA", "./data")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("QUIRE_DATABASE_URL"))
    hostname: str = field(default_factory=lambda: _env("HOSTNAME", "localhost"))
    handle_domains: tuple[str, ...] = field(
        default_factory=lambda: tuple(_env("HANDLE_DOMAINS", ".test").split(","))
    )
    plc_url: str | None = field(default_factory=lambda: os.environ.get("QUIRE_PLC_URL"))
    db_schema: str = field(default_factory=lambda: _env("DB_SCHEMA", "public"))
    fast_password_hashing: bool = field(
        default_factory=lambda: _env("FAST_PASSWORD_HASHING", "") in ("1", "true", "yes")
    )
    rate_limits: bool = field(
        default_factory=lambda: _env("RATE_LIMITS", "on").lower() not in ("off", "0", "no")
    )
    allow_private_identity: bool = field(
        default_factory=lambda: _env("ALLOW_PRIVATE_IDENTITY", "") in ("1", "true", "yes")
    )
    """Let identity resolution reach private/loopback addresses (tests, private deployments)."""
    dns_servers: tuple[str, ...] = field(
        default_factory=lambda: tuple(s for s in _env("DNS_SERVERS", "").split(",") if s)
    )
    """Nameserver addresses for handle and `_lexicon` TXT lookups; empty: the system's."""
    dns_port: int = field(default_factory=lambda: int(_env("DNS_PORT", "53")))
    ip_rate_limit: str = field(default_factory=lambda: _env("IP_RATE_LIMIT", "3000/300"))
    relays: tuple[str, ...] = field(
        default_factory=lambda: tuple(r for r in _env("RELAYS", "").split(",") if r)
    )
    invite_required: bool = field(
        default_factory=lambda: _env("INVITE_REQUIRED", "") in ("1", "true", "yes")
    )
    """createAccount needs an invite code (made with `quire invite create`)."""
    appview_url: str | None = field(default_factory=lambda: os.environ.get("QUIRE_APPVIEW_URL"))
    appview_did: str | None = field(default_factory=lambda: os.environ.get("QUIRE_APPVIEW_DID"))
    """Where `app.bsky.*` calls go without an `atproto-proxy` header (both, or neither)."""
    appview_cdn_url_pattern: str | None = field(
        default_factory=lambda: os.environ.get("QUIRE_APPVIEW_CDN_URL_PATTERN") or None
    )
    """Image URLs in read-after-write views, `%s` for preset, DID and CID (e.g.
    `https://cdn.bsky.app/img/%s/plain/%s/%s@jpeg`); unset: this server's `sync.getBlob`."""
    report_service_url: str | None = field(
        default_factory=lambda: os.environ.get("QUIRE_REPORT_SERVICE_URL")
    )
    report_service_did: str | None = field(
        default_factory=lambda: os.environ.get("QUIRE_REPORT_SERVICE_DID")
    )
    """Where `createReport` goes without an `atproto-proxy` header (both, or neither)."""
    admin_password: str | None = field(
        default_factory=lambda: os.environ.get("QUIRE_ADMIN_PASSWORD") or None
    )
    """HTTP Basic `admin:<password>` for com.atproto.admin.* and invite creation; unset: closed."""
    validate_output: bool = field(
        default_factory=lambda: _env("VALIDATE_OUTPUT", "") in ("1", "true", "yes")
    )
    """Check every XRPC JSON response against its lexicon; a mismatch becomes a 500."""
    car_cache_mb: int = field(default_factory=lambda: int(_env("CAR_CACHE_MB", "512")))
    """Disk budget of the full-export CAR cache under `<data>/car-cache`; 0 disables it."""

    @property
    def public_url(self) -> str:
        """The URL clients and DID documents use to reach this server."""
        if self.hostname in ("localhost", "127.0.0.1"):
            return f"http://{self.hostname}:{self.port}"
        return f"https://{self.hostname}"

    @property
    def service_did(self) -> str:
        """The server's own did:web, derived from its hostname."""
        host = self.hostname if self.port in (80, 443) else f"{self.hostname}%3A{self.port}"
        return f"did:web:{host}"
