"""Server secrets: generated into the data directory on first start and reused after."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from domain.crypto.k256 import K256Keypair


@dataclass(frozen=True)
class ServerSecrets:
    """The JWT secret and the PLC rotation key this server signs with."""

    jwt_secret: bytes
    plc_rotation_key: K256Keypair


def load_or_create(data_dir: Path) -> ServerSecrets:
    """Read `<data>/secrets.json`, creating it (mode 0600) the first time.

    `QUIRE_JWT_SECRET` (hex) overrides the stored JWT secret, so several processes over one
    Postgres can share it without sharing a directory.
    """
    path = data_dir / "secrets.json"
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        stored = {
            "jwt_secret": secrets.token_hex(32),
            "plc_rotation_key": K256Keypair.generate().private_key_bytes().hex(),
        }
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(stored, out)
        os.replace(tmp, path)
    jwt_hex = os.environ.get("QUIRE_JWT_SECRET") or stored["jwt_secret"]
    return ServerSecrets(
        jwt_secret=bytes.fromhex(jwt_hex),
        plc_rotation_key=K256Keypair.from_private_key(bytes.fromhex(stored["plc_rotation_key"])),
    )
