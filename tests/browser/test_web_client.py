"""The web client at / (frontend/client/), in headless chromium, with nothing reachable but
this server: signing up, posting with the twitter-text counter, a followee's tweet arriving
live, likes, the unread badge kept live, infinite scroll, a tweet's page from its
Tweet.url, and the banner when Chirp cannot be reached.

Set-up goes through the API (conftest's ``Api``) as another client would; each test
waits for roles, labels and text, never for a fixed time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from itertools import count

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Api, Browsing

pytestmark = pytest.mark.slow

HANDLES = count(1)
TIMEOUT_S = 15.0
LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }"
REPLY = """mutation($t: String!, $to: ID!) {
  createTweet(input: {text: $t, inReplyToId: $to}) { tweet { id url } errors { code } } }"""
URL_OF = "query($id: ID!) { tweet(id: $id) { url } }"


def handle(stem: str) -> str:
    return f"{stem}{next(HANDLES)}_{int(time.time() * 1000) % 100_000}"


def open_as(browsing: Browsing, chirp: Api, token: str, path: str = "/") -> Page:
    """The client at ``path``, signed in with ``token`` (kept where the client keeps it)."""
    page = browsing.page
    page.goto(f"{chirp.base}/login")
    page.evaluate("token => localStorage.setItem('chirp.token', token)", token)
    reply = page.goto(f"{chirp.base}{path}")
    assert reply is not None
    assert reply.status == 200
    return page


def wait_until(check: Callable[[], bool], page: Page, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not check():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(50)  # Playwright delivers WebSocket frame events between calls


def wait_subscribed(browsing: Browsing, operation: str) -> None:
    """Until the server acknowledged the WebSocket and the client subscribed ``operation``."""
    wait_until(
        lambda: (
            any('"connection_ack"' in f for f in browsing.frames_received)
            and any('"subscribe"' in f and operation in f for f in browsing.frames_sent)
        ),
        browsing.page,
        f"no {operation} subscription: {browsing.frames_sent} {browsing.frames_received}",
    )


def until_delivered(post: Callable[[int], None], arrived: Callable[[], None]) -> None:
    """A subscription is registered a moment after its subscribe message: an event made
    before that is not delivered, so make a new one until one arrives."""
    for attempt in range(5):
        post(attempt)
        try:
            arrived()
            return
        except AssertionError:
            continue
    pytest.fail("nothing reached the subscription")


def tweets(page: Page) -> int:
    return page.get_by_role("article").count()


def test_sign_up_and_post_with_the_counter(browsing: Browsing, chirp: Api) -> None:
    page = browsing.page
    name = handle("newbie")
    reply = page.goto(f"{chirp.base}/signup")
    assert reply is not None
    assert reply.status == 200
    assert "Content-Security-Policy" in {key.title() for key in reply.headers}
    expect(page.get_by_role("heading", name="Sign up for Chirp")).to_be_visible()
    page.get_by_label("Handle").fill(name)
    page.get_by_label("Display name (optional)").fill("New Bie")
    page.get_by_label("Password").fill("correct horse")
    browsing.shot("sign-up-form")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    expect(page.get_by_role("button", name=f"Log out @{name}")).to_be_visible()
    assert page.evaluate("localStorage.getItem('chirp.token')")
    box = page.get_by_label("What's happening?")
    post = page.get_by_role("button", name="Post", exact=True)
    expect(page.get_by_text("280 characters left")).to_be_visible()
    expect(post).to_be_disabled()
    # twitter-text's weights, as the server counts: an emoji is 2, a URL 23
    box.fill("hello 👋 https://example.com/a/very/long/path/indeed")
    expect(page.get_by_text(f"{280 - (6 + 2 + 1 + 23)} characters left")).to_be_visible()
    box.fill("x" * 281)
    expect(page.get_by_text("-1 characters left")).to_be_visible()
    expect(post).to_be_disabled()
    browsing.shot("over-the-limit")
    box.fill("my first chirp #hello")
    expect(page.get_by_text(f"{280 - 21} characters left")).to_be_visible()
    expect(post).to_be_enabled()
    post.click()
    timeline = page.get_by_role("region", name="Home timeline")
    expect(timeline.get_by_role("article")).to_have_count(1)
    expect(timeline).to_contain_text("my first chirp #hello")
    expect(box).to_have_value("")
    browsing.shot("posted")
    # it is stored: a reload shows it from the server
    page.reload()
    expect(page.get_by_role("region", name="Home timeline")).to_contain_text("my first chirp")
    page.get_by_role("button", name=f"Log out @{name}").click()
    expect(page.get_by_role("heading", name="Log in to Chirp")).to_be_visible()
    assert page.evaluate("localStorage.getItem('chirp.token')") is None
    browsing.shot("logged-out")
    browsing.assert_clean()


def test_a_followees_tweet_arrives_live_and_a_like_counts(browsing: Browsing, chirp: Api) -> None:
    reader_token, _ = chirp.sign_up(handle("reader"))
    author = handle("author")
    author_token, author_id = chirp.sign_up(author)
    chirp.follow(reader_token, author_id)
    page = open_as(browsing, chirp, reader_token)
    timeline = page.get_by_role("region", name="Home timeline")
    expect(timeline.get_by_text("Nothing here yet")).to_be_visible()
    wait_subscribed(browsing, "HomeLive")
    browsing.shot("empty-timeline")
    posted: list[str] = []

    def post(attempt: int) -> None:
        posted.append(chirp.tweet(author_token, f"live from the API {attempt}"))

    until_delivered(
        post,
        lambda: expect(timeline.get_by_role("article")).not_to_have_count(0, timeout=2_000),
    )
    card = timeline.get_by_role("article", name=f"Tweet by @{author}").first
    expect(card).to_contain_text("live from the API")
    expect(page.get_by_text(f"New tweet from @{author}")).to_be_attached()  # aria-live
    browsing.shot("arrived-live")
    like = card.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    liked = card.get_by_role("button", name="Liked 1")
    expect(liked).to_have_attribute("aria-pressed", "true")
    browsing.shot("liked")
    found = chirp.call(
        "query($id: ID!) { tweet(id: $id) { likeCount } }", {"id": posted[-1]}, reader_token
    )
    assert found["tweet"]["likeCount"] == 1
    liked.click()
    expect(card.get_by_role("button", name="Like 0")).to_have_attribute("aria-pressed", "false")
    card.get_by_role("button", name="Retweet").click()
    expect(card.get_by_role("button", name="Retweeted 1")).to_be_visible()
    browsing.shot("retweeted")
    browsing.assert_clean()


def test_the_unread_badge_updates_live(browsing: Browsing, chirp: Api) -> None:
    me = handle("poster")
    my_token, _ = chirp.sign_up(me)
    fan_token, _ = chirp.sign_up(handle("fan"))
    mine = chirp.tweet(my_token, "like me please")
    page = open_as(browsing, chirp, my_token)
    expect(page.get_by_role("region", name="Home timeline")).to_contain_text("like me please")
    wait_subscribed(browsing, "NotificationsLive")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_text("unread")).to_have_count(0)
    browsing.shot("no-notifications")

    def reply(attempt: int) -> None:
        chirp.call(REPLY, {"t": f"@{me} a reply {attempt}", "to": mine}, fan_token)

    until_delivered(
        reply, lambda: expect(nav.get_by_label("1 unread")).to_be_visible(timeout=2_000)
    )
    chirp.call(LIKE, {"id": mine}, fan_token)
    expect(nav.get_by_label(re.compile(r"[2-9] unread"))).to_be_visible()  # a like too
    browsing.shot("badge")
    nav.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    notifications = page.get_by_role("region", name="Notifications")
    expect(notifications).to_contain_text("liked your tweet")
    expect(notifications).to_contain_text("replied to you")
    browsing.shot("notifications")
    page.get_by_role("button", name="Mark all as read").click()
    expect(nav.get_by_text("unread")).to_have_count(0)
    expect(notifications.get_by_text("(unread)")).to_have_count(0)
    browsing.shot("read")
    browsing.assert_clean()


def test_scrolling_down_loads_older_tweets(browsing: Browsing, chirp: Api) -> None:
    token, _ = chirp.sign_up(handle("prolific"))
    for n in range(1, 46):
        chirp.tweet(token, f"tweet number {n}")
    page = open_as(browsing, chirp, token)
    timeline = page.get_by_role("region", name="Home timeline")
    expect(timeline.get_by_role("article")).to_have_count(20)
    expect(timeline.get_by_text("tweet number 45", exact=True)).to_be_visible()
    expect(timeline.get_by_text("tweet number 1", exact=True)).to_have_count(0)
    browsing.shot("first-page")
    for shown in (40, 45):
        page.keyboard.press("End")  # the sentinel scrolls into view
        expect(timeline.get_by_role("article")).to_have_count(shown)
    expect(timeline.get_by_text("tweet number 1", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Load more")).to_have_count(0)  # no next page
    browsing.shot("all-pages")
    browsing.assert_clean()


def test_a_tweets_url_opens_its_thread_and_a_profile_can_be_followed(
    browsing: Browsing, chirp: Api
) -> None:
    alice = handle("alice")
    alice_token, _ = chirp.sign_up(alice)
    bob = handle("bob")
    bob_token, _ = chirp.sign_up(bob)
    root = chirp.tweet(alice_token, "what should I read?")
    answer = chirp.call(REPLY, {"t": "the API guide", "to": root}, bob_token)["createTweet"]
    url = chirp.call(URL_OF, {"id": root})["tweet"]["url"]
    page = browsing.page
    reply = page.goto(url)  # anonymous, as a shared link
    assert reply is not None
    assert reply.status == 200
    expect(page.get_by_role("article", name=f"Tweet by @{alice}")).to_contain_text(
        "what should I read?"
    )
    replies = page.get_by_role("region", name="Replies")
    expect(replies).to_contain_text("the API guide")
    browsing.shot("thread")
    replies.get_by_role("link", name=re.compile(r"^\d+s$|^\d+m$")).click()  # its time: its page
    expect(page).to_have_url(answer["tweet"]["url"])
    expect(page.get_by_role("list", name="Earlier in the thread")).to_contain_text(
        "what should I read?"
    )
    browsing.shot("reply-page")
    missing = page.goto(f"{chirp.base}/{alice}/status/1")
    assert missing is not None
    assert missing.status == 404
    expect(page.get_by_text("This tweet doesn't exist")).to_be_visible()
    # signed in as bob: alice's profile, followed from there
    page = open_as(browsing, chirp, bob_token, f"/{alice}")
    expect(page.get_by_role("heading", name=f"{alice} (@{alice})")).to_be_visible()
    follow = page.get_by_role("button", name=f"Follow @{alice}")
    follow.click()
    expect(page.get_by_role("button", name=f"Following @{alice}")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("region", name="Profile")).to_contain_text("1 Followers")
    browsing.shot("followed")
    browsing.assert_clean()


def test_when_chirp_cannot_be_reached_a_banner_says_so(browsing: Browsing, chirp: Api) -> None:
    token, _ = chirp.sign_up(handle("offline"))
    chirp.tweet(token, "before the outage")
    page = open_as(browsing, chirp, token)
    expect(page.get_by_role("region", name="Home timeline")).to_contain_text("before the outage")

    def down(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/graphql", down)
    page.route("**/healthz", down)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    page.get_by_label("Search tweets and people").fill("outage")
    page.get_by_role("button", name="Search", exact=True).click()
    banner = page.get_by_role("status").get_by_text("Can't reach Chirp — retrying…")
    expect(banner).to_be_visible()
    expect(page.get_by_role("alert").first).to_contain_text("Can't reach Chirp")
    expect(page.get_by_role("heading", name="Search: outage")).to_be_visible()  # not blank
    browsing.shot("unreachable")
    page.unroute("**/graphql")
    page.unroute("**/healthz")
    expect(banner).to_have_count(0)  # the client retried and Chirp answered
    expect(page.get_by_role("region", name="Tweets found")).to_contain_text("before the outage")
    browsing.shot("back")
    browsing.assert_clean()
