"""The ObjectStore contract (media/port.py): every adapter must pass these tests.

Adapters: the embedded folder (LocalObjectStore) and S3 through the minio SDK
(MinioObjectStore, on SeaweedFS's S3 server or a real MinIO, see
tests/backends.py). An S3 upload URL is a presigned URL the store itself
checks, so it gets a real HTTP PUT here; a local upload URL points at the
app's own PUT route, covered over HTTP in tests/media/test_upload_flow.py:
here only its signature is checked, and the bytes go in with ``put``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest

from media.local import LocalObjectStore
from media.port import ObjectStore, UploadTarget

PNG = "image/png"


async def chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def put(store: ObjectStore, key: str, data: bytes, content_type: str = PNG) -> None:
    await store.put(key, chunks(data), len(data), content_type)


async def read(store: ObjectStore, key: str, start: int = 0, length: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, length)])


def expiring_in(seconds: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


async def http_put(target: UploadTarget, data: bytes, url: str | None = None) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.put(url or target.url, data=data, headers=target.headers) as response,
    ):
        await response.read()
        return response.status


def local_signature_parts(target: UploadTarget) -> tuple[str, int, str]:
    """(upload name, expires, signature) of a local upload URL."""
    parts = urlsplit(target.url)
    query = parse_qs(parts.query, strict_parsing=True)
    assert parts.path.startswith("/uploads/"), target.url
    return parts.path.removeprefix("/uploads/"), int(query["expires"][0]), query["signature"][0]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


# --- bucket ---------------------------------------------------------------------------


async def test_ensure_bucket_is_idempotent_and_keeps_objects(object_store: ObjectStore) -> None:
    await object_store.ensure_bucket()
    await put(object_store, "media/a.png", b"kept")
    await object_store.ensure_bucket()
    await object_store.ensure_bucket()
    assert await read(object_store, "media/a.png") == b"kept"
    await object_store.ping()


# --- put / stat / read ------------------------------------------------------------------


async def test_stat_of_a_missing_object_is_none(object_store: ObjectStore) -> None:
    assert await object_store.stat("media/missing.png") is None
    assert await object_store.stat("uploads/12345") is None


async def test_put_then_stat_and_read_back_the_same_bytes(object_store: ObjectStore) -> None:
    data = os.urandom(700 * 1024)  # several chunks each way
    await put(object_store, "uploads/1", data)
    info = await object_store.stat("uploads/1")
    assert info is not None
    assert info.size == len(data)
    assert await read(object_store, "uploads/1") == data


async def test_read_returns_the_asked_range(object_store: ObjectStore) -> None:
    data = bytes(range(256)) * 4
    await put(object_store, "media/r.png", data)
    assert await read(object_store, "media/r.png", 0, 10) == data[:10]
    assert await read(object_store, "media/r.png", 100, 1) == data[100:101]
    assert await read(object_store, "media/r.png", 1000) == data[1000:]
    assert await read(object_store, "media/r.png", 1020, 100) == data[1020:]  # cut at the end
    assert await read(object_store, "media/r.png", 5, 0) == b""
    assert await read(object_store, "media/r.png", len(data)) == b""


async def test_put_replaces_an_object_whole(object_store: ObjectStore) -> None:
    await put(object_store, "uploads/2", b"first version, longer")
    await put(object_store, "uploads/2", b"second")
    assert await read(object_store, "uploads/2") == b"second"
    assert (await object_store.stat("uploads/2")) is not None


async def test_a_put_whose_data_fails_midway_stores_nothing(object_store: ObjectStore) -> None:
    await put(object_store, "uploads/3", b"before")

    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="went away"):
        await object_store.put("uploads/3", failing(), 5000, PNG)
    with pytest.raises(RuntimeError, match="went away"):
        await object_store.put("uploads/4", failing(), 5000, PNG)
    assert await read(object_store, "uploads/3") == b"before"
    assert await object_store.stat("uploads/4") is None


async def test_two_puts_of_one_key_at_once_leave_one_of_them_whole(
    object_store: ObjectStore,
) -> None:
    first, second = b"a" * 300_000, b"b" * 200_000
    await asyncio.gather(
        put(object_store, "uploads/5", first), put(object_store, "uploads/5", second)
    )
    assert await read(object_store, "uploads/5") in (first, second)


# --- copy / delete ----------------------------------------------------------------------


async def test_copy_duplicates_and_keeps_the_source(object_store: ObjectStore) -> None:
    data = os.urandom(5000)
    await put(object_store, "uploads/6", data)
    await object_store.copy("uploads/6", "media/" + "ab" * 32 + ".png")
    assert await read(object_store, "media/" + "ab" * 32 + ".png") == data
    assert await read(object_store, "uploads/6") == data


async def test_copy_over_an_existing_object_replaces_it(object_store: ObjectStore) -> None:
    await put(object_store, "uploads/7", b"new")
    await put(object_store, "media/t.png", b"old bytes")
    await object_store.copy("uploads/7", "media/t.png")
    assert await read(object_store, "media/t.png") == b"new"


async def test_delete_removes_and_is_harmless_when_missing(object_store: ObjectStore) -> None:
    await put(object_store, "uploads/8", b"bytes")
    await object_store.delete("uploads/8")
    assert await object_store.stat("uploads/8") is None
    await object_store.delete("uploads/8")
    await object_store.delete("media/never-existed.png")


# --- upload targets ---------------------------------------------------------------------


async def test_an_upload_target_takes_the_bytes(object_store: ObjectStore) -> None:
    expires_at = expiring_in(60)
    target = await object_store.upload_target("uploads/9", PNG, expires_at)
    assert target.expires_at == expires_at
    assert target.headers == {"Content-Type": PNG}
    data = os.urandom(4096)
    if isinstance(object_store, LocalObjectStore):
        name, expires, signature = local_signature_parts(target)
        assert target.url.startswith("https://chirp.test/uploads/9?")
        assert (name, expires) == ("9", int(expires_at.timestamp()))
        assert object_store.check_signature("uploads/9", expires, PNG, signature)
        await put(object_store, "uploads/9", data)  # what the upload route does
    else:
        assert await http_put(target, data) == 200
    info = await object_store.stat("uploads/9")
    assert info is not None
    assert info.size == len(data)
    assert await read(object_store, "uploads/9") == data


async def test_a_tampered_upload_url_is_refused(object_store: ObjectStore) -> None:
    target = await object_store.upload_target("uploads/10", PNG, expiring_in(60))
    if isinstance(object_store, LocalObjectStore):
        _, expires, signature = local_signature_parts(target)
        check = object_store.check_signature
        assert check("uploads/10", expires, PNG, signature)
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        assert not check("uploads/10", expires, PNG, flipped)
        assert not check("uploads/10", expires + 3600, PNG, signature)  # a later expiry
        assert not check("uploads/11", expires, PNG, signature)  # another upload
        assert not check("uploads/10", expires, "image/gif", signature)  # another type
        other = LocalObjectStore(Path("/nonexistent"), "https://chirp.test", "another-secret")
        assert not other.check_signature("uploads/10", expires, PNG, signature)
        return
    signature = parse_qs(urlsplit(target.url).query)["X-Amz-Signature"][0]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert (
        await http_put(target, b"evil", with_query(target.url, **{"X-Amz-Signature": forged}))
        == 403
    )
    assert await http_put(target, b"evil", target.url.replace("uploads/10", "uploads/11")) == 403
    longer = with_query(target.url, **{"X-Amz-Expires": "604800"})
    assert await http_put(target, b"evil", longer) == 403
    assert await object_store.stat("uploads/10") is None
    assert await object_store.stat("uploads/11") is None


async def test_an_expired_upload_url_is_refused(object_store: ObjectStore) -> None:
    expires_at = expiring_in(1)
    target = await object_store.upload_target("uploads/12", PNG, expires_at)
    if isinstance(object_store, LocalObjectStore):
        # the signed expiry is the asked one; the upload route refuses it once past
        # (tests/media/test_upload_flow.py)
        assert local_signature_parts(target)[1] == int(expires_at.timestamp())
        return
    await asyncio.sleep(expires_at.timestamp() - datetime.now(UTC).timestamp() + 1.1)
    assert await http_put(target, b"late") == 403
    assert await object_store.stat("uploads/12") is None


# --- the local folder's own rules ---------------------------------------------------------


async def test_a_local_key_cannot_leave_the_media_folder(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "media", "https://chirp.test", "s" * 32)
    await store.open()
    (tmp_path / "secret.txt").write_text("do not serve")
    for key in ("../secret.txt", "media/../../secret.txt", "/etc/passwd"):
        with pytest.raises(ValueError, match="leaves the media folder"):
            await store.stat(key)
    assert not list((tmp_path / "media").iterdir())
