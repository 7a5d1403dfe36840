"""`quire plc serve`: the embedded did:plc directory as a standalone server."""

from __future__ import annotations

import argparse
from pathlib import Path


def run_plc_serve(args: argparse.Namespace) -> int:
    """Serve the directory's HTTP API at the root of host:port."""
    import uvicorn

    from adapters.http.plc_routes import plc_app
    from adapters.identity.plc_store import open_plc_directory

    directory = open_plc_directory(
        Path(args.data), database_url=args.database_url, schema=args.db_schema
    )
    uvicorn.run(plc_app(directory), host=args.host, port=args.port, log_level="info")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `quire plc serve`."""
    plc = commands.add_parser("plc", help="the did:plc directory")
    sub = plc.add_subparsers(dest="plc_command", required=True)
    serve = sub.add_parser("serve", help="serve the directory alone (GET /<did>, /export, ...)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=2582)
    serve.add_argument("--data", default="./data", help="directory holding plc.sqlite")
    serve.add_argument("--database-url", help="postgresql://... instead of SQLite")
    serve.add_argument("--db-schema", default="public")
    serve.set_defaults(handler=run_plc_serve)
