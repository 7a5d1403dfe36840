"""Identity wiring: the embedded PLC directory (default) or a remote one, and the registrar."""

from __future__ import annotations

from typing import Any

from adapters.http.plc_routes import plc_app
from adapters.identity.embedded_plc_client import EmbeddedPlcClient
from adapters.identity.http_plc_client import HttpPlcClient
from adapters.identity.plc_registrar import PlcRegistrar
from adapters.identity.plc_store import open_plc_directory
from application.ports.did_registrar import DidRegistrar
from entrypoints.config import Settings
from entrypoints.server_secrets import ServerSecrets


def build_registrar(
    settings: Settings, server: ServerSecrets, extras: dict[str, Any]
) -> DidRegistrar:
    """A did:plc registrar; with no `--plc-url` the directory runs in-process at `/plc`."""
    if settings.plc_url:
        client: Any = HttpPlcClient(settings.plc_url)
    else:
        directory = open_plc_directory(
            settings.data_dir, database_url=settings.database_url, schema=settings.db_schema
        )
        extras["plc_directory"] = directory
        extras["plc_app"] = plc_app(directory)
        client = EmbeddedPlcClient(directory)
    extras["plc_client"] = client
    return PlcRegistrar(client, server.plc_rotation_key)
