"""Password hashing (argon2id) and signed, expiring bearer tokens (HS256 JWT)."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_ISSUER = "chirp"
_ALGORITHM = "HS256"


class Passwords:
    """argon2id hashing, run off the event loop (a hash costs tens of ms of CPU)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Verifying against this keeps unknown-handle logins as slow as wrong-password ones.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                    password_hash is not None
                )
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check)


class InvalidToken(Exception):
    """A bearer token that is malformed, tampered with or expired."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    expires_at: int


class Tokens:
    """Issues and checks bearer tokens: a user id, signed, with an expiry."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        if len(secret) < 32:
            raise ValueError("the token signing key must be at least 32 characters")
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: int, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": str(user_id),
            "iat": issued,
            "exp": issued + self.ttl_seconds,
            "iss": _ISSUER,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"]},
            )
            return TokenClaims(user_id=int(claims["sub"]), expires_at=int(claims["exp"]))
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The token has expired; log in again.") from exc
        except (jwt.InvalidTokenError, ValueError) as exc:
            raise InvalidToken("The token is not valid.") from exc


def load_or_create_secret(data_dir: Path) -> str:
    """The signing key kept in ``data_dir/secret.key``, created (mode 0600) if missing."""
    path = data_dir / "secret.key"
    try:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    os.replace(tmp, path)
    return secret
