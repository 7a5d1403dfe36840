"""Cryptographic adapters for the credential ports: argon2id password hashing, HS256 JWTs."""
