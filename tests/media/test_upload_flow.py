"""Media uploads over HTTP, as a client does them, on the embedded default and on S3.

createMediaUpload -> PUT the bytes to uploadUrl with the headers -> completeMediaUpload
-> createTweet(mediaIds). "embedded" keeps the bytes in a folder and takes the PUT
on the app's own signed route; "minio" is S3 (SeaweedFS's S3 server, or the MinIO of
CHIRP_TEST_MINIO_*) with presigned URLs. Whatever goes wrong, nothing half-stored
is ever served.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from media.inspect import EXTENSIONS
from media.local import LocalObjectStore
from services.media import upload_key
from tests.conftest import AppFactory, GraphQLClient
from tests.media import (
    PUBLIC_URL,
    MediaApp,
    animated_gif,
    image_bytes,
    media_app,
    mp4_bytes,
    sha256,
)

PNG = image_bytes("PNG", (64, 48))
JPEG = image_bytes("JPEG", (120, 90))


@pytest.fixture(params=["embedded", "minio"])
async def app(request: pytest.FixtureRequest, make_client: AppFactory) -> AsyncIterator[MediaApp]:
    """An app on each object store in turn."""
    async with media_app(request, make_client, request.param) as opened:
        yield opened


@pytest.fixture
async def embedded(
    request: pytest.FixtureRequest, make_client: AppFactory
) -> AsyncIterator[MediaApp]:
    """An app on the embedded default: its own signed upload route."""
    async with media_app(request, make_client, "embedded") as opened:
        yield opened


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def nothing_stored(app: MediaApp, media_id: str, data: bytes) -> None:
    """Neither the upload nor a checked copy of ``data`` is kept or served."""
    assert await app.media.objects.stat(upload_key(int(media_id))) is None
    for ext in EXTENSIONS.values():
        assert await app.media.objects.stat(f"media/{sha256(data)}{ext}") is None
        response = await app.gql.http.get(f"/media/{sha256(data)}{ext}")
        assert response.status == 404


# --- the happy path -------------------------------------------------------------------


async def test_upload_complete_and_tweet_a_photo(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    created = await app.create_upload(alice, "image/png", len(PNG))
    assert created["errors"] == []
    upload = created["upload"]
    media = upload["media"]
    assert media["kind"] == "PHOTO"
    assert (media["contentType"], media["sizeBytes"]) == ("image/png", len(PNG))
    assert (media["width"], media["height"], media["url"]) == (None, None, "")
    assert upload["headers"] == [{"name": "Content-Type", "value": "image/png"}]
    expires_at = datetime.fromisoformat(upload["expiresAt"])
    assert timedelta(minutes=14) < expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    if app.backend == "embedded":
        assert upload["uploadUrl"].startswith(f"{PUBLIC_URL}/uploads/{media['id']}?expires=")
    else:
        assert f"/uploads/{media['id']}?" in upload["uploadUrl"]
        assert "X-Amz-Signature=" in upload["uploadUrl"]
    assert await app.node(media["id"]) is None  # not READY: not visible yet

    status, body = await app.put(upload, PNG)
    assert status == 200, body
    completed = await app.complete(alice, media["id"])
    assert completed["errors"] == []
    ready = completed["media"]
    assert ready == {
        "id": media["id"],
        "kind": "PHOTO",
        "contentType": "image/png",
        "sizeBytes": len(PNG),
        "width": 64,
        "height": 48,
        "url": f"{PUBLIC_URL}/media/{sha256(PNG)}.png",
    }
    assert (await app.complete(alice, media["id"]))["media"] == ready  # completing again: same
    assert await app.node(media["id"]) == {"__typename": "Media", **ready}
    assert await app.media.objects.stat(upload_key(int(media["id"]))) is None  # moved

    posted = await app.tweet(alice, "look at this", [media["id"]])
    assert posted["errors"] == []
    assert posted["tweet"]["media"] == [ready]
    read = await app.gql.ok(
        "query($id: ID!) { tweet(id: $id) { media { id url } } }", {"id": posted["tweet"]["id"]}
    )
    assert read["tweet"]["media"] == [{"id": media["id"], "url": ready["url"]}]
    served = await app.get(ready["url"])
    assert served.status == 200
    assert await served.read() == PNG


async def test_every_accepted_format_becomes_ready_with_its_kind(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    files = [
        (image_bytes("JPEG", (30, 20)), "image/jpeg", "PHOTO", (30, 20), ".jpg"),
        (image_bytes("PNG", (31, 21)), "image/png", "PHOTO", (31, 21), ".png"),
        (image_bytes("WEBP", (32, 22)), "image/webp", "PHOTO", (32, 22), ".webp"),
        (image_bytes("JPEG", (33, 23)), "IMAGE/JPEG; charset=binary", "PHOTO", (33, 23), ".jpg"),
        (animated_gif((34, 24)), "image/gif", "GIF", (34, 24), ".gif"),
        (mp4_bytes(5000), "video/mp4", "VIDEO", (None, None), ".mp4"),
    ]
    ready = []
    for data, declared, kind, (width, height), ext in files:
        media = await app.upload(alice, data, declared)
        assert (media["kind"], media["width"], media["height"]) == (kind, width, height)
        assert media["contentType"] == declared.split(";")[0].lower()
        assert media["url"] == f"{PUBLIC_URL}/media/{sha256(data)}{ext}"
        ready.append(media)
    photos = [m["id"] for m in ready[:4]]
    posted = await app.tweet(alice, "four photos", photos)
    assert posted["errors"] == []
    assert [m["id"] for m in posted["tweet"]["media"]] == photos  # in the order given
    for single in ready[4:]:
        posted = await app.tweet(alice, f"one {single['kind']}", [single["id"]])
        assert posted["errors"] == []
        assert posted["tweet"]["media"] == [single]


async def test_a_photo_larger_than_a_request_body_uploads(app: MediaApp) -> None:
    # the API takes request bodies up to 1 MB; uploads stream past that limit
    big = image_bytes("PNG", (700, 700), noise=True)
    assert 1024 * 1024 < len(big) < 5 * 1024 * 1024
    alice, _ = await app.gql.sign_up("alice")
    media = await app.upload(alice, big)
    assert (media["width"], media["sizeBytes"]) == (700, len(big))
    assert await (await app.get(media["url"])).read() == big


async def test_identical_uploads_share_their_bytes(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    bob, _ = await app.gql.sign_up("bob")
    first = await app.upload(alice, PNG)
    second = await app.upload(bob, PNG)
    assert first["id"] != second["id"]
    assert first["url"] == second["url"]
    assert (await app.tweet(bob, "same picture", [second["id"]]))["errors"] == []


# --- checked at completion: what arrived ----------------------------------------------------


async def test_a_lying_content_type_is_refused_and_the_upload_removed(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    text = b"just some text, not a picture at all\n" * 20
    truncated_jpeg = JPEG[: len(JPEG) // 2]
    for declared, data in [
        ("image/png", JPEG),  # a real JPEG declared as PNG
        ("image/png", text),
        ("image/jpeg", truncated_jpeg),  # declared at its (cut) size: the image is broken
        ("video/mp4", PNG),
        ("image/gif", image_bytes("WEBP")),
    ]:
        created = await app.create_upload(alice, declared, len(data))
        upload = created["upload"]
        status, body = await app.put(upload, data)
        assert status == 200, body
        media_id = upload["media"]["id"]
        refused = await app.complete(alice, media_id)
        assert codes(refused) == [("TYPE_MISMATCH", "mediaId")], declared
        assert refused["media"] is None
        await nothing_stored(app, media_id, data)
        again = await app.complete(alice, media_id)
        assert codes(again) == [("MEDIA_NOT_UPLOADED", "mediaId")]
        assert await app.node(media_id) is None
        assert codes(await app.tweet(alice, "no", [media_id])) == [("MEDIA_NOT_READY", "mediaIds")]


async def test_complete_before_the_upload_then_after_it(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    upload = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    early = await app.complete(alice, upload["media"]["id"])
    assert codes(early) == [("MEDIA_NOT_UPLOADED", "mediaId")]
    assert early["errors"][0]["message"]
    assert (await app.put(upload, PNG))[0] == 200
    assert (await app.complete(alice, upload["media"]["id"]))["errors"] == []


async def test_a_truncated_upload_is_a_size_mismatch_and_can_be_sent_again(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    upload = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    media_id = upload["media"]["id"]
    assert (await app.put(upload, PNG[:-100]))[0] == 200
    refused = await app.complete(alice, media_id)
    assert codes(refused) == [("SIZE_MISMATCH", "mediaId")]
    await nothing_stored(app, media_id, PNG[:-100])
    assert codes(await app.complete(alice, media_id)) == [("MEDIA_NOT_UPLOADED", "mediaId")]
    assert (await app.put(upload, PNG))[0] == 200  # the same URL, the whole file this time
    assert (await app.complete(alice, media_id))["media"]["width"] == 64


async def test_someone_elses_media_is_forbidden(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    bob, _ = await app.gql.sign_up("bob")
    upload = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    assert (await app.put(upload, PNG))[0] == 200
    media_id = upload["media"]["id"]
    stolen = await app.complete(bob, media_id)
    assert codes(stolen) == [("FORBIDDEN", "mediaId")]
    assert stolen["media"] is None
    assert (await app.complete(alice, media_id))["errors"] == []
    posted = await app.tweet(bob, "mine now", [media_id])
    assert codes(posted) == [("FORBIDDEN", "mediaIds")]
    assert posted["tweet"] is None
    profile = await app.gql.ok('{ user(handle: "bob") { tweetsCount } }')
    assert profile["user"]["tweetsCount"] == 0


async def test_the_sweep_removes_media_never_attached(app: MediaApp) -> None:
    alice, _ = await app.gql.sign_up("alice")
    kept = await app.upload(alice, PNG)
    dropped = await app.upload(alice, JPEG, "image/jpeg")
    pending = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    assert (await app.put(pending, PNG))[0] == 200
    posted = await app.tweet(alice, "kept", [kept["id"]])
    assert posted["errors"] == []

    assert await app.media.sweep(int(time.time() * 1000)) == 0  # nothing is old enough yet
    later = int(time.time() * 1000) + app.media.limits.sweep_after_seconds * 1000 + 1000
    assert await app.media.sweep(later) == 2

    assert await app.node(dropped["id"]) is None
    assert await app.node(pending["media"]["id"]) is None
    assert await app.media.objects.stat(upload_key(int(pending["media"]["id"]))) is None
    assert codes(await app.complete(alice, pending["media"]["id"])) == [("NOT_FOUND", "mediaId")]
    assert codes(await app.tweet(alice, "late", [dropped["id"]])) == [("NOT_FOUND", "mediaIds")]
    assert await app.node(kept["id"]) == {"__typename": "Media", **kept}
    read = await app.gql.ok(
        "query($id: ID!) { tweet(id: $id) { media { id } } }", {"id": posted["tweet"]["id"]}
    )
    assert read["tweet"]["media"] == [{"id": kept["id"]}]
    assert (await app.get(kept["url"])).status == 200
    assert await app.media.sweep(later) == 0


# --- checked at declaration -----------------------------------------------------------------


async def test_declarations_are_checked(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    mib = 1024 * 1024
    cases = [
        ("image/bmp", 1000, "UNSUPPORTED_MEDIA_TYPE", "contentType"),
        ("image/svg+xml", 1000, "UNSUPPORTED_MEDIA_TYPE", "contentType"),
        ("text/plain", 1000, "UNSUPPORTED_MEDIA_TYPE", "contentType"),
        ("video/quicktime", 1000, "UNSUPPORTED_MEDIA_TYPE", "contentType"),
        ("", 1000, "UNSUPPORTED_MEDIA_TYPE", "contentType"),
        ("image/png", 0, "INVALID_SIZE", "sizeBytes"),
        ("image/png", -5, "INVALID_SIZE", "sizeBytes"),
        ("image/jpeg", 5 * mib + 1, "TOO_LARGE", "sizeBytes"),
        ("image/webp", 5 * mib + 1, "TOO_LARGE", "sizeBytes"),
        ("image/gif", 15 * mib + 1, "TOO_LARGE", "sizeBytes"),
        ("video/mp4", 512 * mib + 1, "TOO_LARGE", "sizeBytes"),
    ]
    for content_type, size, code, field in cases:
        payload = await embedded.create_upload(alice, content_type, size)
        assert codes(payload) == [(code, field)], (content_type, size)
        assert payload["upload"] is None
    for content_type, size in [
        ("image/png", 5 * mib),
        ("image/gif", 15 * mib),
        ("video/mp4", 512 * mib),
    ]:
        payload = await embedded.create_upload(alice, content_type, size)
        assert payload["errors"] == [], (content_type, size)
    assert (
        "5242880"
        in (await embedded.create_upload(alice, "image/png", 5 * mib + 1))["errors"][0]["message"]
    )


async def test_the_size_limits_are_settings(make_client: AppFactory) -> None:
    app = MediaApp(await make_client(max_photo_bytes=1000, max_gif_bytes=2000), "embedded")
    alice, _ = await app.gql.sign_up("alice")
    assert codes(await app.create_upload(alice, "image/png", 1001)) == [("TOO_LARGE", "sizeBytes")]
    assert (await app.create_upload(alice, "image/png", 1000))["errors"] == []
    assert codes(await app.create_upload(alice, "image/gif", 2001)) == [("TOO_LARGE", "sizeBytes")]


async def test_media_mutations_need_a_signed_in_user(embedded: MediaApp) -> None:
    gql: GraphQLClient = embedded.gql
    create = 'mutation { createMediaUpload(input: {contentType: "image/png", sizeBytes: 10}) { errors { code } } }'
    assert await gql.error_code(create) == "UNAUTHENTICATED"
    assert await gql.error_code(create, token="not-a-token") == "UNAUTHENTICATED"
    complete = 'mutation { completeMediaUpload(mediaId: "123") { errors { code } } }'
    assert await gql.error_code(complete) == "UNAUTHENTICATED"


async def test_malformed_and_unknown_media_ids(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    for bad in ["abc", "-1", "1.5", "", "99999999999999999999999"]:
        assert codes(await embedded.complete(alice, bad)) == [("INVALID_ID", "mediaId")], bad
        assert codes(await embedded.tweet(alice, "x", [bad])) == [("INVALID_ID", "mediaIds")], bad
    assert codes(await embedded.complete(alice, "123456789")) == [("NOT_FOUND", "mediaId")]
    assert codes(await embedded.tweet(alice, "x", ["123456789"])) == [("NOT_FOUND", "mediaIds")]


# --- checked at tweet time --------------------------------------------------------------------


async def test_a_tweet_takes_four_photos_or_one_video_or_one_gif(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    photos = [
        (await embedded.upload(alice, image_bytes("PNG", (10 + n, 10))))["id"] for n in range(5)
    ]
    video = (await embedded.upload(alice, mp4_bytes(300), "video/mp4"))["id"]
    video2 = (await embedded.upload(alice, mp4_bytes(301), "video/mp4"))["id"]
    gifs = [
        (await embedded.upload(alice, animated_gif((20 + n, 20)), "image/gif"))["id"]
        for n in range(2)
    ]
    not_ready = (await embedded.create_upload(alice, "image/png", 100))["upload"]["media"]["id"]
    too_many = [("TOO_MANY_MEDIA", "mediaIds")]
    assert codes(await embedded.tweet(alice, "5 photos", photos)) == too_many
    assert codes(await embedded.tweet(alice, "photo + video", [photos[0], video])) == too_many
    assert codes(await embedded.tweet(alice, "photo + gif", [photos[0], gifs[0]])) == too_many
    assert codes(await embedded.tweet(alice, "2 gifs", gifs)) == too_many
    assert codes(await embedded.tweet(alice, "2 videos", [video, video2])) == too_many
    assert codes(await embedded.tweet(alice, "not ready", [not_ready])) == [
        ("MEDIA_NOT_READY", "mediaIds")
    ]
    assert codes(await embedded.tweet(alice, "mixed", [photos[0], not_ready])) == [
        ("MEDIA_NOT_READY", "mediaIds")
    ]
    profile = await embedded.gql.ok('{ user(handle: "alice") { tweetsCount } }')
    assert profile["user"]["tweetsCount"] == 0  # nothing refused was stored

    four = await embedded.tweet(alice, "4 photos", photos[:4])
    assert [m["id"] for m in four["tweet"]["media"]] == photos[:4]
    same_twice = await embedded.tweet(alice, "the same one twice", [photos[4], photos[4]])
    assert [m["id"] for m in same_twice["tweet"]["media"]] == [photos[4]]
    assert (await embedded.tweet(alice, "a video", [video]))["errors"] == []
    assert (await embedded.tweet(alice, "a gif", [gifs[0]]))["errors"] == []
    assert (await embedded.tweet(alice, "no media", []))["tweet"]["media"] == []


# --- the embedded store's signed upload route -----------------------------------------------


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


async def test_the_upload_route_refuses_bad_requests(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    upload = (await embedded.create_upload(alice, "image/png", len(PNG)))["upload"]
    media_id = upload["media"]["id"]
    url = upload["uploadUrl"]
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    refused = [
        (with_query(url, signature=forged), {}, 403),
        (with_query(url, expires=str(expires + 3600)), {}, 403),  # a longer life, same signature
        (url.split("?")[0], {}, 403),  # no signature at all
        (with_query(url, expires="²"), {}, 403),  # not ASCII digits
        (url.replace(f"/uploads/{media_id}?", f"/uploads/{int(media_id) + 1}?"), {}, 403),
        (url.replace(f"/uploads/{media_id}?", "/uploads/abc?"), {}, 404),
        (url.replace(f"/uploads/{media_id}?", "/uploads/" + "9" * 30 + "?"), {}, 404),
        (url, {"Content-Type": "image/jpeg"}, 400),
        (url, {"Content-Type": "text/plain"}, 400),
    ]
    for target, headers, status in refused:
        sent = {"Content-Type": "image/png", **headers}
        got, body = await embedded.put(upload, PNG, sent, target)
        assert got == status, (target, headers, body)
        assert await embedded.media.objects.stat(upload_key(int(media_id))) is None
    got, body = await embedded.put(upload, PNG, {}, url)  # no Content-Type header at all
    assert got == 400, body
    assert "Content-Type: image/png" in body
    assert await embedded.media.objects.stat(upload_key(int(media_id))) is None
    assert (await embedded.put(upload, PNG))[0] == 200  # the URL itself still works


async def test_a_body_larger_than_declared_is_refused_and_not_stored(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    upload = (await embedded.create_upload(alice, "image/png", len(PNG)))["upload"]
    key = upload_key(int(upload["media"]["id"]))
    status, body = await embedded.put(upload, PNG + b"extra")
    assert status == 413, body
    assert await embedded.media.objects.stat(key) is None

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for start in range(0, len(PNG) + 5000, 1000):
            yield (PNG + b"\x00" * 5000)[start : start + 1000]

    parts = urlsplit(upload["uploadUrl"])
    response = await embedded.gql.http.put(
        f"{parts.path}?{parts.query}", data=streamed(), headers={"Content-Type": "image/png"}
    )
    assert response.status == 413, await response.text()
    assert await embedded.media.objects.stat(key) is None
    folder = embedded.media.objects
    assert isinstance(folder, LocalObjectStore)
    assert not [p for p in folder.root.rglob("*") if p.is_file()]  # no partial file left


async def test_a_put_after_completion_is_a_conflict(embedded: MediaApp) -> None:
    alice, _ = await embedded.gql.sign_up("alice")
    upload = (await embedded.create_upload(alice, "image/png", len(PNG)))["upload"]
    assert (await embedded.put(upload, PNG))[0] == 200
    ready = (await embedded.complete(alice, upload["media"]["id"]))["media"]
    other = image_bytes("PNG", (64, 48), noise=True)[: len(PNG)]
    status, body = await embedded.put(upload, other)
    assert status == 409, body
    assert await (await embedded.get(ready["url"])).read() == PNG


async def test_an_expired_upload_url_is_refused(make_client: AppFactory) -> None:
    app = MediaApp(await make_client(upload_url_ttl_seconds=1), "embedded")
    alice, _ = await app.gql.sign_up("alice")
    upload = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    expires_at = datetime.fromisoformat(upload["expiresAt"])
    await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()) + 1.05)
    status, body = await app.put(upload, PNG)
    assert status == 403, body
    assert "expired" in body
    assert await app.media.objects.stat(upload_key(int(upload["media"]["id"]))) is None
    fresh = (await app.create_upload(alice, "image/png", len(PNG)))["upload"]
    assert (await app.put(fresh, PNG))[0] == 200  # a new URL works at once
