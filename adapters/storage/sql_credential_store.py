"""`CredentialStore` over SQLAlchemy Core, for SQLite and Postgres alike.

These tables see a write per login or refresh, not per commit, so a plain Core engine is
enough; each method is one short transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from adapters.storage.credential_tables import (
    account_passwords,
    app_passwords,
    create_credential_tables,
    email_confirmations,
    refresh_tokens,
)
from application.ports.credentials import AppPasswordInfo, RefreshRecord

_APP_PASSWORD_INFO = (app_passwords.c.name, app_passwords.c.created_at, app_passwords.c.privileged)


def _app_password_info(row: Any) -> AppPasswordInfo:
    return AppPasswordInfo(
        name=row.name, created_at=row.created_at, privileged=bool(row.privileged)
    )


class SqlCredentialStore:
    """Password hashes, app-password digests and refresh-token records in SQL tables."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        create_credential_tables(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    # Email confirmation

    def confirm_email(self, did: str, email: str, confirmed_at: str) -> None:
        """Record (or replace) `did`'s confirmed address."""
        stmt = self._insert(email_confirmations).values(
            did=did, email=email, confirmed_at=confirmed_at
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["did"], set_={"email": email, "confirmed_at": confirmed_at}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def confirmed_email(self, did: str) -> str | None:
        """The address `did` last confirmed."""
        query = select(email_confirmations.c.email).where(email_confirmations.c.did == did)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else str(row.email)

    # Account passwords

    def set_password_hash(self, did: str, hash: str) -> None:
        """Store or replace `did`'s password hash."""
        stmt = self._insert(account_passwords).values(did=did, hash=hash)
        stmt = stmt.on_conflict_do_update(index_elements=["did"], set_={"hash": hash})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def get_password_hash(self, did: str) -> str | None:
        """`did`'s password hash, or None."""
        with self.engine.connect() as conn:
            value = conn.scalar(
                select(account_passwords.c.hash).where(account_passwords.c.did == did)
            )
        return None if value is None else str(value)

    # App passwords

    def add_app_password(
        self, did: str, name: str, digest: str, created_at: str, *, privileged: bool = False
    ) -> bool:
        """Insert unless `(did, name)` exists; True if inserted."""
        stmt = (
            self._insert(app_passwords)
            .values(did=did, name=name, hash=digest, created_at=created_at, privileged=privileged)
            .on_conflict_do_nothing(index_elements=["did", "name"])
            .returning(app_passwords.c.name)  # rowcount of this INSERT is -1 under psycopg
        )
        with self.engine.begin() as conn:
            return conn.execute(stmt).first() is not None

    def list_app_passwords(self, did: str) -> list[AppPasswordInfo]:
        """Newest first."""
        query = (
            select(*_APP_PASSWORD_INFO)
            .where(app_passwords.c.did == did)
            .order_by(app_passwords.c.created_at.desc(), app_passwords.c.name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_app_password_info(row) for row in rows]

    def find_app_password(self, did: str, digest: str) -> AppPasswordInfo | None:
        """The app password with this digest, or None."""
        query = select(*_APP_PASSWORD_INFO).where(
            app_passwords.c.did == did, app_passwords.c.hash == digest
        )
        with self.engine.connect() as conn:
            row = conn.execute(query.limit(1)).first()
        return None if row is None else _app_password_info(row)

    def revoke_app_password(self, did: str, name: str) -> bool:
        """Delete the app password and its refresh tokens together."""
        with self.engine.begin() as conn:
            deleted = conn.execute(
                delete(app_passwords).where(
                    app_passwords.c.did == did, app_passwords.c.name == name
                )
            ).rowcount
            conn.execute(
                delete(refresh_tokens).where(
                    refresh_tokens.c.did == did, refresh_tokens.c.app_password_name == name
                )
            )
        return bool(deleted)

    # Refresh tokens

    def put_refresh(
        self, jti: str, did: str, expires_at: int, app_password_name: str | None
    ) -> None:
        """Insert unless `jti` exists."""
        with self.engine.begin() as conn:
            self._put_refresh(conn, jti, did, expires_at, app_password_name)

    def get_refresh(self, jti: str) -> RefreshRecord | None:
        """The record of `jti`, with its app password's privilege joined in; or None."""
        t, a = refresh_tokens.c, app_passwords.c
        query = (
            select(t.jti, t.did, t.expires_at, t.app_password_name, t.next_jti, a.privileged)
            .select_from(
                refresh_tokens.outerjoin(
                    app_passwords, and_(a.did == t.did, a.name == t.app_password_name)
                )
            )
            .where(t.jti == jti)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return RefreshRecord(
            jti=row.jti,
            did=row.did,
            expires_at=int(row.expires_at),
            app_password_name=row.app_password_name,
            next_jti=row.next_jti,
            app_password_privileged=bool(row.privileged),
        )

    def revoke_refresh(self, jti: str) -> bool:
        """Delete `jti`'s record; True if there was one."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(delete(refresh_tokens).where(refresh_tokens.c.jti == jti)).rowcount
            )

    def revoke_all(self, did: str) -> None:
        """Delete every refresh token of `did`."""
        with self.engine.begin() as conn:
            conn.execute(delete(refresh_tokens).where(refresh_tokens.c.did == did))

    def revoke_credentials(self, did: str) -> None:
        """Delete `did`'s password hash, app passwords and refresh tokens together."""
        with self.engine.begin() as conn:
            conn.execute(delete(account_passwords).where(account_passwords.c.did == did))
            conn.execute(delete(app_passwords).where(app_passwords.c.did == did))
            conn.execute(delete(refresh_tokens).where(refresh_tokens.c.did == did))

    def delete_expired(self, did: str, now: int) -> None:
        """Delete `did`'s refresh tokens with `expires_at <= now`."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(refresh_tokens).where(
                    refresh_tokens.c.did == did, refresh_tokens.c.expires_at <= now
                )
            )

    def mark_used(
        self, jti: str, *, next_jti: str, next_expires_at: int, expires_at: int, used_at: int
    ) -> bool:
        """Rotate `jti` to `next_jti` unless a concurrent rotation chose another successor.

        The guarded UPDATE is the arbiter: under Postgres row locking the loser re-checks the
        condition after the winner commits and matches no row; SQLite serializes writers.
        """
        t = refresh_tokens.c
        stmt = (
            update(refresh_tokens)
            .where(and_(t.jti == jti, or_(t.next_jti.is_(None), t.next_jti == next_jti)))
            .values(
                next_jti=next_jti,
                expires_at=expires_at,
                used_at=func.coalesce(t.used_at, used_at),
            )
            .returning(t.did, t.app_password_name)
        )
        with self.engine.begin() as conn:
            row = conn.execute(stmt).first()
            if row is None:
                return False
            self._put_refresh(conn, next_jti, row.did, next_expires_at, row.app_password_name)
        return True

    def _put_refresh(
        self,
        conn: Connection,
        jti: str,
        did: str,
        expires_at: int,
        app_password_name: str | None,
    ) -> None:
        conn.execute(
            self._insert(refresh_tokens)
            .values(jti=jti, did=did, expires_at=expires_at, app_password_name=app_password_name)
            .on_conflict_do_nothing(index_elements=["jti"])
        )
