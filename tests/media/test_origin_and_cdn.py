"""The media origin route (GET/HEAD /media/<sha256>.<ext>) and the pull CDN in front of it.

The origin runs on both object stores; the CDN is Debian's nginx with
deploy/nginx/cdn.conf, rendered for the test (its cache in a temporary folder,
the test app as its upstream), counting what reaches the origin.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from app import create_app
from bootstrap.services import Overrides
from bootstrap.settings import Settings
from tests.conftest import FAST_PASSWORDS, AppFactory, GraphQLClient
from tests.media import PUBLIC_URL, MediaApp, image_bytes, media_app, mp4_bytes, sha256
from tests.servers import free_port

IMMUTABLE = "public, max-age=31536000, immutable"
NGINX = Path("/usr/sbin/nginx")  # Debian's, as `make test` installs it
CDN_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "cdn.conf"
PHOTO = image_bytes("PNG", (80, 60), noise=True)


@pytest.fixture(params=["embedded", "minio"])
async def app(request: pytest.FixtureRequest, make_client: AppFactory) -> AsyncIterator[MediaApp]:
    async with media_app(request, make_client, request.param) as opened:
        yield opened


@pytest.fixture
async def photo(app: MediaApp) -> dict[str, Any]:
    """A READY photo of 80x60 random pixels (PHOTO's bytes)."""
    token, _ = await app.gql.sign_up("alice")
    return await app.upload(token, PHOTO)


# --- the origin -----------------------------------------------------------------------------


async def test_the_origin_serves_media_immutable_with_a_strong_etag(
    app: MediaApp, photo: dict[str, Any]
) -> None:
    response = await app.get(photo["url"])
    assert response.status == 200
    assert await response.read() == PHOTO
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["ETag"] == f'"{sha256(PHOTO)}"'  # strong: no W/
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Length"] == str(len(PHOTO))
    assert response.headers["Accept-Ranges"] == "bytes"


async def test_if_none_match_answers_not_modified(app: MediaApp, photo: dict[str, Any]) -> None:
    etag = f'"{sha256(PHOTO)}"'
    for header in [etag, f"W/{etag}", f'"other", {etag}', "*"]:
        response = await app.get(photo["url"], {"If-None-Match": header})
        assert response.status == 304, header
        assert await response.read() == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == IMMUTABLE
    response = await app.get(photo["url"], {"If-None-Match": '"something-else"'})
    assert response.status == 200
    assert await response.read() == PHOTO


async def test_byte_ranges(app: MediaApp, photo: dict[str, Any]) -> None:
    size = len(PHOTO)
    cases = {
        "bytes=0-9": (0, 9),
        "bytes=100-199": (100, 199),
        f"bytes={size - 10}-": (size - 10, size - 1),
        "bytes=-25": (size - 25, size - 1),  # the last 25 bytes
        f"bytes=-{size + 100}": (0, size - 1),  # more than there is: all of it
        f"bytes=10-{size + 1000}": (10, size - 1),  # the end is cut to the object's
        f"bytes={size - 1}-{size - 1}": (size - 1, size - 1),
    }
    for header, (first, last) in cases.items():
        response = await app.get(photo["url"], {"Range": header})
        assert response.status == 206, header
        assert response.headers["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert response.headers["Content-Length"] == str(last - first + 1), header
        assert await response.read() == PHOTO[first : last + 1], header
        assert response.headers["ETag"] == f'"{sha256(PHOTO)}"'


async def test_unsatisfiable_and_ignored_ranges(app: MediaApp, photo: dict[str, Any]) -> None:
    size = len(PHOTO)
    for header in [f"bytes={size}-", f"bytes={size + 50}-{size + 60}", "bytes=-0"]:
        response = await app.get(photo["url"], {"Range": header})
        assert response.status == 416, header
        assert response.headers["Content-Range"] == f"bytes */{size}", header
    # not one valid byte range: a server may ignore the header and send the whole object
    for header in ["bytes=0-1,5-6", "items=0-9", "bytes=abc", "bytes=9-3", "bytes=-"]:
        response = await app.get(photo["url"], {"Range": header})
        assert response.status == 200, header
        assert await response.read() == PHOTO, header


async def test_head_gives_the_headers_without_the_body(
    app: MediaApp, photo: dict[str, Any]
) -> None:
    path = photo["url"].removeprefix(PUBLIC_URL)
    response = await app.gql.http.head(path)
    assert response.status == 200
    assert response.headers["Content-Length"] == str(len(PHOTO))
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert await response.read() == b""
    ranged = await app.gql.http.head(path, headers={"Range": "bytes=0-9"})
    assert ranged.status == 206
    assert ranged.headers["Content-Length"] == "10"


async def test_a_video_is_served_as_mp4_with_seekable_ranges(app: MediaApp) -> None:
    video = mp4_bytes(300_000)
    token, _ = await app.gql.sign_up("alice")
    media = await app.upload(token, video, "video/mp4")
    assert media["url"].endswith(".mp4")
    response = await app.get(media["url"], {"Range": "bytes=150000-150999"})
    assert response.status == 206
    assert response.headers["Content-Type"] == "video/mp4"
    assert await response.read() == video[150_000:151_000]


async def test_unknown_and_malformed_names_are_not_found(
    app: MediaApp, photo: dict[str, Any]
) -> None:
    digest = sha256(PHOTO)
    names = [
        f"{'0' * 64}.png",  # well formed, never stored
        f"{digest}.jpg",  # the right bytes under another type
        f"{digest}.PNG",
        f"{digest.upper()}.png",
        f"{digest}.bmp",
        f"{digest}",
        f"{digest[:-1]}.png",
        f"{digest}0.png",
        "abc.png",
        "..%2F..%2Fattachments.sqlite3",
        photo["id"],  # a media id is not a name
    ]
    for name in names:
        response = await app.gql.http.get(f"/media/{name}")
        assert response.status == 404, name
        body = await response.json()
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await app.gql.http.get(f"/media/{digest}.png")).status == 200
    # the bytes of a pending upload are never served
    pending = (await app.create_upload((await app.gql.sign_up("bob"))[0], "image/png", 10))[
        "upload"
    ]
    assert (await app.gql.http.get(f"/media/{pending['media']['id']}")).status == 404
    assert (await app.gql.http.get(f"/uploads/{pending['media']['id']}")).status == 405


# --- the pull CDN: nginx with deploy/nginx/cdn.conf ------------------------------------------


@dataclass
class OriginLog:
    """The media requests that reached the origin: (method, path, Range header)."""

    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def for_path(self, path: str) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[1] == path]


def find_nginx() -> Path | None:
    if os.access(NGINX, os.X_OK):
        return NGINX
    found = shutil.which("nginx")
    return Path(found) if found else None


def render_cdn_conf(cache: Path, origin: str, port: int) -> str:
    conf = CDN_CONF.read_text()
    for old, new in [
        ("/var/cache/nginx/chirp", str(cache)),
        ("http://lb:80", origin),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ]:
        assert old in conf, f"{CDN_CONF} no longer has {old!r}: update this test's rendering"
        conf = conf.replace(old, new)
    return conf


def nginx_conf(prefix: Path, cdn_conf: Path) -> str:
    # as root, workers would switch to "nobody", who cannot use the test's folders
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix / "access.log"};
{temp}
    include {cdn_conf};
}}
"""


@contextlib.contextmanager
def running_nginx(prefix: Path, origin: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    nginx = find_nginx()
    if nginx is None:
        pytest.fail(
            "nginx not found (neither /usr/sbin/nginx nor on PATH): the CDN test runs "
            "Debian's nginx. Run `make test`, which installs it (Debian package nginx)."
        )
    (prefix / "temp").mkdir(parents=True)
    cdn_conf = prefix / "cdn.conf"
    cdn_conf.write_text(render_cdn_conf(prefix / "cache", origin, port))
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, cdn_conf))
    command = [str(nginx), "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    check = subprocess.run([*command[:-2], "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, f"nginx -t refused the rendered config:\n{check.stderr}"
    output = (prefix / "nginx-output.log").open("wb")
    process = subprocess.Popen(
        command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{_logs(prefix)}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                break
            if time.monotonic() > deadline:
                pytest.fail(f"nginx did not listen on {port} within 10 s:\n{_logs(prefix)}")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def _logs(prefix: Path) -> str:
    return "\n".join(
        f"--- {name} ---\n{(prefix / name).read_text(errors='replace')[-3000:]}"
        for name in ("nginx-output.log", "error.log")
        if (prefix / name).exists()
    )


@dataclass
class Cdn:
    app: MediaApp
    base_url: str
    origin: OriginLog
    session: aiohttp.ClientSession

    async def get(self, url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        assert url.startswith(self.base_url + "/media/"), url
        async with self.session.get(url, headers=headers) as response:
            return response.status, response.headers, await response.read()


@pytest.fixture
async def cdn(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    settings: Settings,
    tmp_path: Path,
) -> AsyncIterator[Cdn]:
    """The test app behind nginx: media URLs point at the CDN, which pulls from the app."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    application = create_app(
        settings.replace(cdn_base_url=base_url), Overrides(passwords=FAST_PASSWORDS)
    )
    origin = OriginLog()

    @web.middleware
    async def count(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path.startswith("/media/"):
            origin.requests.append((request.method, request.path, request.headers.get("Range")))
        return await handler(request)

    application.middlewares.insert(0, count)
    client = await aiohttp_client(application)
    assert client.server.host == "127.0.0.1"
    prefix = tmp_path / "nginx"
    with running_nginx(prefix, f"http://127.0.0.1:{client.server.port}", port):
        async with aiohttp.ClientSession() as session:
            yield Cdn(MediaApp(GraphQLClient(client), "embedded"), base_url, origin, session)
    shutil.rmtree(prefix / "cache", ignore_errors=True)


async def test_the_cdn_pulls_a_media_once_and_serves_it_from_its_cache(cdn: Cdn) -> None:
    token, _ = await cdn.app.gql.sign_up("alice")
    media = await cdn.app.upload(token, PHOTO)
    assert media["url"] == f"{cdn.base_url}/media/{sha256(PHOTO)}.png"
    path = media["url"].removeprefix(cdn.base_url)

    status, headers, body = await cdn.get(media["url"])
    assert (status, headers["X-Cache-Status"]) == (200, "MISS")
    assert body == PHOTO
    assert headers["Cache-Control"] == IMMUTABLE
    assert headers["ETag"] == f'"{sha256(PHOTO)}"'
    assert headers["Content-Type"] == "image/png"
    assert len(cdn.origin.for_path(path)) == 1

    status, headers, body = await cdn.get(media["url"])
    assert (status, headers["X-Cache-Status"]) == (200, "HIT")
    assert body == PHOTO
    assert headers["Cache-Control"] == IMMUTABLE
    assert len(cdn.origin.for_path(path)) == 1  # the origin saw only the first request

    status, headers, body = await cdn.get(media["url"], {"Range": "bytes=0-9"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 0-9/{len(PHOTO)}"
    assert body == PHOTO[:10]
    assert headers["X-Cache-Status"] == "HIT"
    assert len(cdn.origin.for_path(path)) == 1


async def test_a_range_request_through_the_cdn_fetches_only_its_slice(cdn: Cdn) -> None:
    # cdn.conf caches in 1 MB slices, so a seek into a long video pulls one slice
    video = mp4_bytes(2_600_000)
    token, _ = await cdn.app.gql.sign_up("alice")
    media = await cdn.app.upload(token, video, "video/mp4")
    path = media["url"].removeprefix(cdn.base_url)

    status, headers, body = await cdn.get(media["url"], {"Range": "bytes=1500000-1500099"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 1500000-1500099/{len(video)}"
    assert body == video[1_500_000:1_500_100]
    assert len(cdn.origin.for_path(path)) == 1  # the second 1 MB slice only

    status, headers, body = await cdn.get(media["url"], {"Range": "bytes=1048576-1048600"})
    assert (status, headers["X-Cache-Status"]) == (206, "HIT")
    assert body == video[1_048_576:1_048_601]
    assert len(cdn.origin.for_path(path)) == 1

    status, headers, body = await cdn.get(media["url"])  # the whole file: the other slices
    assert status == 200
    assert body == video
    assert len(cdn.origin.for_path(path)) == 3


async def test_the_cdn_passes_not_found_through(cdn: Cdn) -> None:
    status, headers, _ = await cdn.get(f"{cdn.base_url}/media/{'0' * 64}.png")
    assert status == 404
    assert headers["X-Cache-Status"] in {"MISS", "EXPIRED"}
    async with cdn.session.get(f"{cdn.base_url}/graphql") as response:
        assert response.status == 404  # only /media/ goes through the CDN
