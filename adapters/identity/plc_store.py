"""Where the embedded PLC directory keeps its events: its own SQLite file or Postgres table.

The directory is a separate eventsourcing application with its own notification log (the
PLC `seq`), so it never shares the PDS's events table: `<data>/plc.sqlite`, or the table
`plcdirectory_events` (named after the application) in the given Postgres schema. It uses
eventsourcing's stock recorders: it has no views to write alongside its events.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from application.plc_directory.app import PlcDirectory


def plc_sqlite_env(data_dir: Path, *, create: bool = True) -> dict[str, str]:
    """Env for a directory in `<data_dir>/plc.sqlite`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str((data_dir / "plc.sqlite").resolve()),
        "SQLITE_LOCK_TIMEOUT": "10",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "",
        "CREATE_TABLE": "y" if create else "n",
    }


def plc_postgres_env(url: str, *, schema: str = "public", create: bool = True) -> dict[str, str]:
    """Env for a directory in Postgres at `url`, table `plcdirectory_events` in `schema`."""
    parts = urlparse(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("database URL must start with postgresql://")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_POOL_SIZE": "2",
        "ORIGINATOR_ID_TYPE": "text",
        "APPLICATION_RECORDER_TOPIC": "",
        "CREATE_TABLE": "y" if create else "n",
    }


def open_plc_directory(
    data_dir: Path, database_url: str | None = None, *, schema: str = "public"
) -> PlcDirectory:
    """The embedded directory next to the PDS's own store (Postgres if a URL is given)."""
    env = (
        plc_postgres_env(database_url, schema=schema) if database_url else plc_sqlite_env(data_dir)
    )
    return PlcDirectory(env)
