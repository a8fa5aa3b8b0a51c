"""GraphiQL in a real browser: Debian's chromium, headless, driven by Playwright.

A real ``python app.py`` (tests/processes.py) serves the embedded default from a
temporary data folder, with the bundle ``make frontend`` built. The browser may
reach 127.0.0.1 and localhost only: every other request is aborted and recorded
(``Browsing.outside``), Chromium's resolver knows no other host, and each test
asserts that nothing else was attempted, that the page broke no rule of its
Content-Security-Policy and threw no error. Playwright downloads no browser:
it launches the system's chromium (``CHIRP_TEST_CHROMIUM`` names another), and
the tests skip, saying why, only when there is none.

Each test writes a screenshot of each step into
``tests/browser/.screenshots/<test name>/`` and prints the path.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    Request,
    Route,
    WebSocket,
    sync_playwright,
)

from tests.processes import environment, running
from web.assets import DIST, MANIFEST

SCREENSHOTS = Path(__file__).resolve().parent / ".screenshots"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")
TIMEOUT_MS = 15_000  # for a selector to appear; the steps take well under a second each
# what the page records for the test to check: its CSP violations, as they happen
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def chromium_path() -> str | None:
    named = os.environ.get("CHIRP_TEST_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Api:
    """The running server's GraphQL API over HTTP, as a test's set-up uses it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.url = f"{base}/graphql"

    def call(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, body, headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer: dict[str, Any] = json.loads(reply.read())
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data

    def sign_up(self, handle: str) -> tuple[str, str]:
        """A new user: (token, id)."""
        data = self.call(
            """mutation($handle: String!) {
                 signUp(input: {handle: $handle, password: "correct horse"}) {
                   token user { id } errors { code message }
                 }
               }""",
            {"handle": handle},
        )["signUp"]
        assert data["errors"] == [], data
        return data["token"], data["user"]["id"]

    def follow(self, token: str, user_id: str) -> None:
        data = self.call(
            "mutation($id: ID!) { followUser(userId: $id) { errors { code } } }",
            {"id": user_id},
            token,
        )
        assert data["followUser"]["errors"] == [], data

    def tweet(self, token: str, text: str) -> str:
        data = self.call(
            "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } errors { code } } }",
            {"t": text},
            token,
        )["createTweet"]
        assert data["errors"] == [], data
        tweet_id: str = data["tweet"]["id"]
        return tweet_id


def wait_ready(url: str, process_alive: Any, output: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        assert process_alive(), f"chirp exited:\n{output()}"
        assert time.monotonic() < deadline, f"{url} did not answer:\n{output()}"
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no chromium to drive: install Debian's `chromium` (make system-packages does) "
            "or name one in CHIRP_TEST_CHROMIUM"
        )
    return path


@pytest.fixture(scope="session")
def bundle_built() -> None:
    if not (DIST / MANIFEST).is_file():
        pytest.fail(f"GraphiQL's bundle is not built ({DIST / MANIFEST}): run `make frontend`")


@pytest.fixture(scope="module")
def chirp(bundle_built: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """`python app.py` on the embedded default, for this module's tests."""
    folder = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = environment(folder / "data", CHIRP_PORT=str(port))
    with running([], env, folder / "chirp.log") as process:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/healthz", lambda: process.returncode is None, lambda: process.output)
        yield Api(base)


# Module-scoped, not session-scoped: while Playwright's sync API is open, an asyncio
# loop runs in this thread, and the suite's async tests after these could not start theirs.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright, chromium: str) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(
        executable_path=chromium,
        headless=True,
        # no host but this one resolves, whatever asks (the page, a worker, chromium itself)
        args=[
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            "--no-sandbox",  # root in a container: chromium's sandbox needs user namespaces
            "--disable-dev-shm-usage",
        ],
    )
    yield launched
    launched.close()


class Browsing:
    """One test's page, what it tried to reach outside, and its screenshots."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.sockets: list[WebSocket] = []
        self.frames_sent: list[str] = []  # over every WebSocket, in order
        self.frames_received: list[str] = []
        self.steps = 0

    def shot(self, step: str) -> Path:
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{step}.png"
        self.page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path

    def assert_clean(self) -> None:
        """Nothing but this server was asked for; no CSP violation, no uncaught error."""
        assert self.outside == [], f"requests to other hosts: {self.outside}"
        outside_sockets = [ws.url for ws in self.sockets if not is_local(ws.url)]
        assert outside_sockets == [], f"WebSockets to other hosts: {outside_sockets}"
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], f"Content-Security-Policy violations: {violations}"
        assert self.errors == [], f"errors on the page: {self.errors}"


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOCAL_HOSTS


@pytest.fixture
def browsing(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Browsing]:
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots in {folder}")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    seen = Browsing(page, folder)

    def guard(route: Route, sent: Request) -> None:
        if is_local(sent.url):
            route.continue_()
        else:
            seen.outside.append(sent.url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    context.add_init_script(WATCH_CSP)

    def opened(ws: WebSocket) -> None:
        seen.sockets.append(ws)
        ws.on("framesent", lambda frame: seen.frames_sent.append(str(frame)))
        ws.on("framereceived", lambda frame: seen.frames_received.append(str(frame)))

    page.on("websocket", opened)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    yield seen
    context.close()
