"""`InviteStore` over SQLAlchemy Core: codes with a use counter, one row per use, and the
accounts whose invites the operator disabled.

A claim is a conditional `UPDATE ... SET used = used + 1 WHERE used < available`: the
database decides which of two concurrent sign-ups gets a code's last use.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from application.ports.invite_codes import InviteCode, InviteUse

invite_metadata = MetaData()

invite_codes = Table(
    "invite_codes",
    invite_metadata,
    Column("code", Text, primary_key=True),
    Column("available", Integer, nullable=False),
    Column("used", Integer, nullable=False, default=0),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("for_account", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", Text, nullable=False),  # RFC 3339
    Index("invite_codes_for_account", "for_account"),
)

invite_code_uses = Table(
    "invite_code_uses",
    invite_metadata,
    Column("code", Text, nullable=False),
    Column("used_by", Text, nullable=False),
    Column("used_at", Text, nullable=False),
    PrimaryKeyConstraint("code", "used_by"),
)

invite_disabled_accounts = Table(  # a row per account whose invites the operator disabled
    "invite_disabled_accounts",
    invite_metadata,
    Column("did", Text, primary_key=True),
)


class SqlInviteCodes:
    """Invite codes, their uses, and the accounts with invites disabled, in small tables."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database: {engine.dialect.name}")
        self.engine = engine
        invite_metadata.create_all(engine)
        self._insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert

    def add(
        self, codes: list[str], available: int, for_account: str, created_by: str, created_at: str
    ) -> None:
        """Store new codes, unused and enabled."""
        rows = [
            {
                "code": code, "available": available, "used": 0, "disabled": False,
                "for_account": for_account, "created_by": created_by, "created_at": created_at,
            }
            for code in codes
        ]  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(insert(invite_codes), rows)

    def claim(self, code: str, claimant: str, used_at: str) -> bool:
        """Take one use of `code` for `claimant`, if one is left."""
        c = invite_codes.c
        take = (
            update(invite_codes)
            .where(c.code == code, c.disabled.is_(False), c.used < c.available)
            .values(used=c.used + 1)
        )
        with self.engine.begin() as conn:
            if conn.execute(take).rowcount != 1:
                return False
            conn.execute(
                insert(invite_code_uses).values(code=code, used_by=claimant, used_at=used_at)
            )
        return True

    def settle(self, code: str, claimant: str, did: str) -> None:
        """Put the new account's DID on the use claimed under `claimant`."""
        u = invite_code_uses.c
        with self.engine.begin() as conn:
            conn.execute(
                update(invite_code_uses)
                .where(u.code == code, u.used_by == claimant)
                .values(used_by=did)
            )

    def release(self, code: str, claimant: str) -> None:
        """Give back the use `claim` took for `claimant`."""
        c, u = invite_codes.c, invite_code_uses.c
        with self.engine.begin() as conn:
            gone = conn.execute(
                delete(invite_code_uses).where(u.code == code, u.used_by == claimant)
            ).rowcount
            if gone:
                conn.execute(update(invite_codes).where(c.code == code).values(used=c.used - 1))

    def disable(self, codes: list[str], accounts: list[str]) -> None:
        """Disable the codes named, and those made for the accounts named."""
        c = invite_codes.c
        with self.engine.begin() as conn:
            if codes:
                conn.execute(update(invite_codes).where(c.code.in_(codes)).values(disabled=True))
            if accounts:
                conn.execute(
                    update(invite_codes).where(c.for_account.in_(accounts)).values(disabled=True)
                )

    def list_recent(self, before: tuple[str, str] | None, limit: int) -> list[InviteCode]:
        """Newest first; `before` is the (created_at, code) of the last code already seen."""
        c = invite_codes.c
        query = select(invite_codes).order_by(c.created_at.desc(), c.code.desc()).limit(limit)
        if before is not None:
            at, code = before
            query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.code < code)))
        return self._with_uses(query)

    def list_for_account(self, did: str) -> list[InviteCode]:
        """Codes made for `did`, oldest first, each with its uses."""
        c = invite_codes.c
        return self._with_uses(
            select(invite_codes).where(c.for_account == did).order_by(c.created_at, c.code)
        )

    def set_account_disabled(self, did: str, disabled: bool) -> None:
        """Add or remove `did`'s row; setting the flag twice is not an error."""
        d = invite_disabled_accounts.c
        with self.engine.begin() as conn:
            if disabled:
                conn.execute(
                    self._insert(invite_disabled_accounts)
                    .values(did=did)
                    .on_conflict_do_nothing(index_elements=["did"])
                )
            else:
                conn.execute(delete(invite_disabled_accounts).where(d.did == did))

    def account_disabled(self, did: str) -> bool:
        """Is there a row for `did`?"""
        d = invite_disabled_accounts.c
        with self.engine.connect() as conn:
            return conn.execute(select(d.did).where(d.did == did)).first() is not None

    def _with_uses(self, query: Any) -> list[InviteCode]:
        u = invite_code_uses.c
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            codes = [row.code for row in rows]
            uses: dict[str, list[InviteUse]] = {code: [] for code in codes}
            if codes:
                for use in conn.execute(
                    select(invite_code_uses).where(u.code.in_(codes)).order_by(u.used_at)
                ):
                    uses[use.code].append(InviteUse(use.used_by, use.used_at))
        return [
            InviteCode(
                row.code, row.available, bool(row.disabled), row.for_account, row.created_by,
                row.created_at, tuple(uses[row.code]),
            )
            for row in rows
        ]  # fmt: skip
