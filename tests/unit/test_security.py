"""Bearer tokens, password hashing and the signing key file (core/security.py)."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import jwt
import pytest
from argon2 import PasswordHasher

from core.security import InvalidToken, Passwords, Tokens, load_or_create_secret

SECRET = "a-test-signing-key-that-is-long-enough-0123456789"
OTHER_SECRET = "another-signing-key-that-is-long-enough-9876543210"
TTL = 3600


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def tokens() -> Tokens:
    return Tokens(SECRET, TTL)


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unb64(part: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


# --- tokens -------------------------------------------------------------------


def test_a_token_round_trips_its_user_id_and_expiry(tokens: Tokens) -> None:
    now = int(time.time())
    claims = tokens.verify(tokens.issue(1234567890123, now=now))
    assert claims.user_id == 1234567890123
    assert claims.expires_at == now + TTL


def test_a_token_is_an_hs256_jwt_issued_by_chirp(tokens: Tokens) -> None:
    token = tokens.issue(7)
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert payload["sub"] == "7"
    assert payload["iss"] == "chirp"
    assert payload["exp"] - payload["iat"] == TTL


def test_an_expired_token_is_refused(tokens: Tokens) -> None:
    token = tokens.issue(7, now=time.time() - TTL - 5)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token)


def test_a_token_is_good_until_it_expires(tokens: Tokens) -> None:
    token = tokens.issue(7, now=time.time() - TTL + 60)
    assert tokens.verify(token).user_id == 7


def test_a_token_with_a_tampered_payload_is_refused(tokens: Tokens) -> None:
    header, payload, signature = tokens.issue(7).split(".")
    claims = unb64(payload)
    claims["sub"] = "8"
    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{b64(claims)}.{signature}")


def test_a_token_with_a_tampered_signature_is_refused(tokens: Tokens) -> None:
    header, payload, signature = tokens.issue(7).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{payload}.{flipped}")
    with pytest.raises(InvalidToken):
        tokens.verify(f"{header}.{payload}.")


def test_a_token_signed_with_another_secret_is_refused(tokens: Tokens) -> None:
    foreign = Tokens(OTHER_SECRET, TTL).issue(7)
    with pytest.raises(InvalidToken):
        tokens.verify(foreign)


def test_an_unsigned_alg_none_token_is_refused(tokens: Tokens) -> None:
    now = int(time.time())
    claims = {"sub": "7", "iat": now, "exp": now + TTL, "iss": "chirp"}
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    with pytest.raises(InvalidToken):
        tokens.verify(unsigned)


def test_a_token_of_another_issuer_or_missing_claims_is_refused(tokens: Tokens) -> None:
    now = int(time.time())
    good = {"sub": "7", "iat": now, "exp": now + TTL, "iss": "chirp"}
    for claims in (
        {**good, "iss": "someone-else"},
        {k: v for k, v in good.items() if k != "sub"},
        {k: v for k, v in good.items() if k != "exp"},
        {**good, "sub": "not-a-number"},
    ):
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        with pytest.raises(InvalidToken):
            tokens.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x", "....."])
def test_garbage_is_not_a_token(tokens: Tokens, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(garbage)


def test_a_short_signing_key_is_rejected() -> None:
    with pytest.raises(ValueError, match="32"):
        Tokens("x" * 31, TTL)
    assert Tokens("x" * 32, TTL).ttl_seconds == TTL


# --- passwords -------------------------------------------------------------------


async def test_a_password_hash_is_argon2id_and_not_the_password(passwords: Passwords) -> None:
    hashed = await passwords.hash("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed


async def test_the_same_password_hashes_differently_each_time(passwords: Passwords) -> None:
    assert await passwords.hash("same password") != await passwords.hash("same password")


async def test_verify_accepts_the_password_and_refuses_others(passwords: Passwords) -> None:
    hashed = await passwords.hash("correct horse battery")
    assert await passwords.verify(hashed, "correct horse battery") is True
    assert await passwords.verify(hashed, "Correct horse battery") is False
    assert await passwords.verify(hashed, "") is False


async def test_verify_without_a_hash_is_false_whatever_the_password(passwords: Passwords) -> None:
    assert await passwords.verify(None, "anything at all") is False
    assert await passwords.verify(None, "") is False


async def test_verify_against_a_malformed_hash_is_false(passwords: Passwords) -> None:
    assert await passwords.verify("not-a-hash", "whatever1") is False


# --- the signing key file ------------------------------------------------------


def test_load_or_create_secret_creates_a_private_file_and_reuses_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    secret = load_or_create_secret(data_dir)
    path = data_dir / "secret.key"

    assert len(secret) >= 32
    assert path.read_text(encoding="ascii").strip() == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(data_dir) == secret
    Tokens(secret, TTL)  # usable as a signing key


def test_load_or_create_secret_keeps_an_existing_key(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("k" * 40 + "\n", encoding="ascii")
    assert load_or_create_secret(tmp_path) == "k" * 40


def test_load_or_create_secret_replaces_a_key_too_short_to_use(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("short\n", encoding="ascii")
    secret = load_or_create_secret(tmp_path)
    assert secret != "short"
    assert len(secret) >= 32
    assert load_or_create_secret(tmp_path) == secret


def test_each_data_folder_gets_its_own_random_key(tmp_path: Path) -> None:
    assert load_or_create_secret(tmp_path / "a") != load_or_create_secret(tmp_path / "b")
