"""Short links: URLs in tweets are stored behind CHIRP_PUBLIC_URL/l/<code> (t.co style).

The tests' settings give CHIRP_PUBLIC_URL = https://chirp.test.
"""

from __future__ import annotations

import re
from typing import Any

from app import SERVICES_KEY
from core.links import short_code
from core.text import MAX_TWEET_LENGTH, URL_WEIGHT
from tests.conftest import GraphQLClient
from tests.media import PUBLIC_URL

CREATE = """mutation($text: String!) {
  createTweet(input: {text: $text}) {
    tweet { id text hashtags links { shortUrl expandedUrl displayUrl } }
    errors { code message field }
  }
}"""
SHORT = re.compile(re.escape(PUBLIC_URL) + r"/l/([0-9A-Za-z]+)")


async def create(gql: GraphQLClient, token: str, text: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gql.ok(CREATE, {"text": text}, token))["createTweet"]
    return payload


async def posted(gql: GraphQLClient, token: str, text: str) -> dict[str, Any]:
    payload = await create(gql, token, text)
    assert payload["errors"] == [], payload["errors"]
    tweet: dict[str, Any] = payload["tweet"]
    return tweet


async def follow_link(gql: GraphQLClient, short_url: str) -> tuple[int, str | None]:
    assert short_url.startswith(f"{PUBLIC_URL}/l/"), short_url
    response = await gql.http.get(short_url.removeprefix(PUBLIC_URL), allow_redirects=False)
    return response.status, response.headers.get("Location")


async def test_urls_are_replaced_by_short_links_in_order(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    tweet = await posted(
        gql,
        alice,
        "Read https://example.com/a?b=1&c=2#top and http://Docs.Example.org:8080/x/y. #News",
    )
    codes = SHORT.findall(tweet["text"])
    assert len(codes) == 2
    assert all(len(code) == 8 for code in codes)
    assert tweet["text"] == (
        f"Read {PUBLIC_URL}/l/{codes[0]} and {PUBLIC_URL}/l/{codes[1]}. #News"
    )  # the full stop ends the sentence, not the URL
    assert tweet["links"] == [
        {
            "shortUrl": f"{PUBLIC_URL}/l/{codes[0]}",
            "expandedUrl": "https://example.com/a?b=1&c=2#top",
            "displayUrl": "example.com",
        },
        {
            "shortUrl": f"{PUBLIC_URL}/l/{codes[1]}",
            "expandedUrl": "http://Docs.Example.org:8080/x/y",
            "displayUrl": "docs.example.org",
        },
    ]
    assert tweet["hashtags"] == ["news"]  # "#top" is the URL's fragment, not a hashtag
    read = await gql.ok(
        "query($id: ID!) { tweet(id: $id) { text links { shortUrl expandedUrl displayUrl } } }",
        {"id": tweet["id"]},
    )
    assert read["tweet"] == {"text": tweet["text"], "links": tweet["links"]}


async def test_only_http_and_https_urls_and_urls_without_a_protocol_are_linked(
    gql: GraphQLClient,
) -> None:
    """twitter-text's URLs: other schemes are not URLs (nor an address's domain), a bare domain is."""
    alice, _ = await gql.sign_up("alice")
    text = "files at ftp://files.example.com/x, mail mailto:a@example.com, https://, or www.example.com."
    tweet = await posted(gql, alice, text)
    (code,) = SHORT.findall(tweet["text"])
    assert tweet["text"] == text.replace("www.example.com", f"{PUBLIC_URL}/l/{code}")
    assert [link["expandedUrl"] for link in tweet["links"]] == ["www.example.com"]
    upper = await posted(gql, alice, "HTTPS://EXAMPLE.COM/Path")
    assert [link["expandedUrl"] for link in upper["links"]] == ["HTTPS://EXAMPLE.COM/Path"]


async def test_a_url_without_a_protocol_keeps_it_as_written_and_redirects_over_https(
    gql: GraphQLClient,
) -> None:
    alice, _ = await gql.sign_up("alice")
    tweet = await posted(gql, alice, "docs at example.com/guide?page=2 and python.org")
    assert [link["expandedUrl"] for link in tweet["links"]] == [
        "example.com/guide?page=2",
        "python.org",
    ]
    assert [await follow_link(gql, link["shortUrl"]) for link in tweet["links"]] == [
        (301, "https://example.com/guide?page=2"),
        (301, "https://python.org"),
    ]


async def test_the_same_url_always_gets_the_same_code(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    url = "https://example.com/same"
    twice = await posted(gql, alice, f"{url} and again {url}")
    first, second = SHORT.findall(twice["text"])
    assert first == second
    assert [link["shortUrl"] for link in twice["links"]] == [f"{PUBLIC_URL}/l/{first}"] * 2
    other = await posted(gql, bob, f"bob also likes {url}")
    assert SHORT.findall(other["text"]) == [first]
    different = await posted(gql, bob, "https://example.com/Same")  # paths are case-sensitive
    assert SHORT.findall(different["text"]) != [first]


async def test_a_short_link_redirects_permanently(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    urls = [
        "https://example.com/a?b=1&c=2",
        "http://example.org/x_(y)",
        "https://example.com/a%20b",
    ]
    tweet = await posted(gql, alice, " ".join(f"({url})" if "(" in url else url for url in urls))
    assert [link["expandedUrl"] for link in tweet["links"]] == urls
    for link in tweet["links"]:
        assert await follow_link(gql, link["shortUrl"]) == (301, link["expandedUrl"])


async def test_an_international_url_redirects_as_a_valid_uri(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    tweet = await posted(gql, alice, "see https://例え.jp/über/путь?q=1")
    (link,) = tweet["links"]
    assert (link["expandedUrl"], link["displayUrl"]) == ("https://例え.jp/über/путь?q=1", "例え.jp")
    status, location = await follow_link(gql, link["shortUrl"])
    assert status == 301
    assert location == "https://xn--r8jz45g.jp/%C3%BCber/%D0%BF%D1%83%D1%82%D1%8C?q=1"


async def test_a_url_ends_where_twitter_text_ends_it(gql: GraphQLClient) -> None:
    """A path holds Latin and Cyrillic letters, not Japanese: the rest stays text."""
    alice, _ = await gql.sign_up("alice")
    tweet = await posted(gql, alice, "see https://例え.jp/パス")
    (link,) = tweet["links"]
    assert link["expandedUrl"] == "https://例え.jp/"
    assert tweet["text"] == f"see {link['shortUrl']}パス"


async def test_unknown_and_malformed_codes_are_not_found(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    tweet = await posted(gql, alice, "https://example.com/known")
    (code,) = SHORT.findall(tweet["text"])
    for path in [
        "/l/" + "x" * 8,
        "/l/" + code.swapcase(),
        "/l/" + code + "0",
        "/l/" + "a" * 21,
        "/l/ab-cd",
        "/l/%C3%A9t%C3%A9",
    ]:
        response = await gql.http.get(path, allow_redirects=False)
        assert response.status == 404, path
        assert (await response.json())["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_each_url_counts_23_characters(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    url = "https://example.com/" + "p" * 280
    assert len(url) == 300
    rest = MAX_TWEET_LENGTH - URL_WEIGHT  # 257
    fits = await create(gql, alice, url + " " + "a" * (rest - 1))
    assert fits["errors"] == []
    assert fits["tweet"]["links"][0]["expandedUrl"] == url
    assert len(fits["tweet"]["text"]) > MAX_TWEET_LENGTH - URL_WEIGHT  # the short link is in
    too_long = await create(gql, alice, url + " " + "a" * rest)
    assert [(e["code"], e["field"]) for e in too_long["errors"]] == [("TOO_LONG", "text")]
    assert too_long["tweet"] is None
    many = " ".join(f"https://example.com/{n}" for n in range(11))  # 11 * 23 + 10 = 263
    assert len((await posted(gql, alice, many))["links"]) == 11


async def test_a_code_taken_by_another_url_grows_by_a_character(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    links = gql.http.app[SERVICES_KEY].links
    url = "https://example.com/collides"
    taken = short_code(url)
    await links.records.put_links([(taken, "https://squatter.example/")])
    tweet = await posted(gql, alice, url)
    (code,) = SHORT.findall(tweet["text"])
    assert code == short_code(url, 9)
    assert await follow_link(gql, f"{PUBLIC_URL}/l/{code}") == (301, url)
    assert await follow_link(gql, f"{PUBLIC_URL}/l/{taken}") == (301, "https://squatter.example/")
