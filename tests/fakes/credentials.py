"""Fakes for the credential ports: a dict-backed store, a fast hasher, accounts and a clock."""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import replace

from application.ports.account_lookup import AccountInfo
from application.ports.credentials import AppPasswordInfo, RefreshRecord


class FakeClock:
    """Epoch seconds that move only when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FastHasher:
    """Salted SHA-256 in a `fast$<params>$<salt>$<digest>` string: hashes, but in microseconds.

    `params` plays argon2's parameters: raise it and older hashes `need_rehash`.
    """

    def __init__(self, params: int = 1) -> None:
        self.params = params
        self.verifications = 0

    def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        return f"fast${self.params}${salt}${self._digest(salt, password)}"

    def verify(self, hash: str, password: str) -> bool:
        self.verifications += 1
        parts = hash.split("$")
        if len(parts) != 4 or parts[0] != "fast":
            return False
        return secrets.compare_digest(parts[3], self._digest(parts[2], password))

    def needs_rehash(self, hash: str) -> bool:
        parts = hash.split("$")
        return len(parts) != 4 or parts[1] != str(self.params)

    @staticmethod
    def _digest(salt: str, password: str) -> str:
        return hashlib.sha256(f"{salt}:{password}".encode("utf-8", "surrogatepass")).hexdigest()


class InMemoryCredentialStore:
    """`CredentialStore` in dicts, with the same semantics as the SQL store."""

    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}
        # (did, name) -> (digest, created, privileged)
        self.app_passwords: dict[tuple[str, str], tuple[str, str, bool]] = {}
        self.confirmed: dict[str, str] = {}
        self.refresh: dict[str, RefreshRecord] = {}
        self.used_at: dict[str, int] = {}
        self._lock = threading.Lock()

    def set_password_hash(self, did: str, hash: str) -> None:
        self.passwords[did] = hash

    def get_password_hash(self, did: str) -> str | None:
        return self.passwords.get(did)

    def add_app_password(
        self, did: str, name: str, digest: str, created_at: str, *, privileged: bool = False
    ) -> bool:
        with self._lock:
            if (did, name) in self.app_passwords:
                return False
            self.app_passwords[(did, name)] = (digest, created_at, privileged)
            return True

    def list_app_passwords(self, did: str) -> list[AppPasswordInfo]:
        found = [
            AppPasswordInfo(name=name, created_at=created, privileged=privileged)
            for (owner, name), (_, created, privileged) in self.app_passwords.items()
            if owner == did
        ]
        found.sort(key=lambda info: info.name)
        found.sort(key=lambda info: info.created_at, reverse=True)
        return found

    def find_app_password(self, did: str, digest: str) -> AppPasswordInfo | None:
        for (owner, name), (stored, created, privileged) in self.app_passwords.items():
            if owner == did and stored == digest:
                return AppPasswordInfo(name=name, created_at=created, privileged=privileged)
        return None

    def revoke_app_password(self, did: str, name: str) -> bool:
        with self._lock:
            existed = self.app_passwords.pop((did, name), None) is not None
            for jti, record in list(self.refresh.items()):
                if record.did == did and record.app_password_name == name:
                    del self.refresh[jti]
            return existed

    def put_refresh(
        self, jti: str, did: str, expires_at: int, app_password_name: str | None
    ) -> None:
        with self._lock:
            self.refresh.setdefault(jti, RefreshRecord(jti, did, expires_at, app_password_name))

    def get_refresh(self, jti: str) -> RefreshRecord | None:
        record = self.refresh.get(jti)
        if record is None or record.app_password_name is None:
            return record
        app_password = self.app_passwords.get((record.did, record.app_password_name))
        return replace(record, app_password_privileged=bool(app_password and app_password[2]))

    def revoke_refresh(self, jti: str) -> bool:
        with self._lock:
            return self.refresh.pop(jti, None) is not None

    def confirm_email(self, did: str, email: str, confirmed_at: str) -> None:
        self.confirmed[did] = email

    def confirmed_email(self, did: str) -> str | None:
        return self.confirmed.get(did)

    def revoke_all(self, did: str) -> None:
        with self._lock:
            for jti, record in list(self.refresh.items()):
                if record.did == did:
                    del self.refresh[jti]

    def revoke_credentials(self, did: str) -> None:
        with self._lock:
            self.passwords.pop(did, None)
            for key in [key for key in self.app_passwords if key[0] == did]:
                del self.app_passwords[key]
            for jti, record in list(self.refresh.items()):
                if record.did == did:
                    del self.refresh[jti]

    def delete_expired(self, did: str, now: int) -> None:
        with self._lock:
            for jti, record in list(self.refresh.items()):
                if record.did == did and record.expires_at <= now:
                    del self.refresh[jti]

    def mark_used(
        self, jti: str, *, next_jti: str, next_expires_at: int, expires_at: int, used_at: int
    ) -> bool:
        with self._lock:
            record = self.refresh.get(jti)
            if record is None or record.next_jti not in (None, next_jti):
                return False
            self.refresh[jti] = replace(record, next_jti=next_jti, expires_at=expires_at)
            self.used_at.setdefault(jti, used_at)
            self.refresh.setdefault(
                next_jti,
                RefreshRecord(next_jti, record.did, next_expires_at, record.app_password_name),
            )
            return True


class FakeAccounts:
    """`AccountLookup` over a dict of accounts, editable by the test."""

    def __init__(self, *accounts: AccountInfo) -> None:
        self.accounts = {account.did: account for account in accounts}

    def add(self, account: AccountInfo) -> None:
        self.accounts[account.did] = account

    def set_status(self, did: str, status: str) -> None:
        self.accounts[did] = replace(self.accounts[did], status=status)

    def by_did(self, did: str) -> AccountInfo | None:
        return self.accounts.get(did)

    def by_handle(self, handle: str) -> AccountInfo | None:
        return next((a for a in self.accounts.values() if a.handle == handle), None)

    def by_email(self, email: str) -> AccountInfo | None:
        return next((a for a in self.accounts.values() if a.email == email), None)
