"""After the soak: every acknowledged post, like and follow, looked for through the API.

- a post: ``tweet(id:)`` answers it (same text, same author); it is in its
  author's ``user { tweets }``; and it is in a follower's ``homeTimeline``
  (a follower from the readers' pool when the author has one, whose timeline
  was cached and kept up to date by fan-out all along; else the author's most
  recent follower, whose timeline may be rebuilt by that read);
- a like: ``tweet(id:) { viewerHasLiked }`` as the user who liked it;
- a follow: ``node(id:) { ... on User { viewerFollows } }`` as the follower.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import aiohttp

from bench.traffic import Acknowledged

T = TypeVar("T")
ALIASES = 20  # fields per request (the API refuses more than 30 aliases)
PAGE = 100  # the largest page the API serves
PARALLEL = 8

USER_TWEETS = """query($handle: String!, $after: String) { user(handle: $handle) {
  tweets(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } }
} }"""
FOLLOWERS = """query($handle: String!, $after: String) { user(handle: $handle) {
  followers(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } }
} }"""
HOME = """query($after: String) { homeTimeline(first: 100, after: $after) {
  edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


class QueryFailed(RuntimeError):
    """A verification query was not answered cleanly."""


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Verifier:
    def __init__(
        self,
        url: str,
        token: Callable[[int], str],
        handles: Mapping[str, str],
        pool: Sequence[int],
    ) -> None:
        self.url = f"{url}/graphql"
        self.token = token
        self.handles = handles  # user id (as text) -> handle
        self.pool = set(pool)
        self._limit = asyncio.Semaphore(PARALLEL)
        self._session: aiohttp.ClientSession | None = None

    async def query(
        self, as_user: int, document: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self.token(as_user)}"}
        payload = {"query": document, "variables": variables or {}}
        async with (
            self._limit,
            self._session.post(self.url, json=payload, headers=headers) as answer,
        ):
            body = await answer.json(content_type=None)
        if answer.status != 200 or body.get("errors"):
            raise QueryFailed(f"{answer.status}: {str(body)[:500]}")
        data: dict[str, Any] = body["data"]
        return data

    async def pages(
        self, as_user: int, document: str, path: Sequence[str], variables: dict[str, Any],
        until: Callable[[list[int]], bool] = lambda ids: False,
    ) -> list[int]:  # fmt: skip
        """Every node id of a connection, page by page, until ``until(ids so far)``."""
        ids: list[int] = []
        after = None
        while True:
            data = await self.query(as_user, document, {**variables, "after": after})
            for key in path:
                data = data[key]
            ids += [int(edge["node"]["id"]) for edge in data["edges"]]
            if not data["pageInfo"]["hasNextPage"] or until(ids):
                return ids
            after = data["pageInfo"]["endCursor"]

    async def check(self, acked: Acknowledged) -> dict[str, Any]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            self._session = session
            try:
                by_id = await self.posts_by_id(acked.posts)
                by_author = await self.posts_in_author_tweets(acked.posts)
                in_home, homes = await self.posts_in_follower_homes(acked.posts, acked.follows)
                likes = await self.likes(acked.likes)
                follows = await self.follows(acked.follows)
            finally:
                self._session = None
        missing = {
            "posts by id": by_id,
            "posts in the author's tweets": by_author,
            "posts in a follower's home": [m["tweet"] for m in in_home],
            "likes": likes,
            "follows": follows,
        }
        return {
            "summary": {
                "checked": {
                    "posts": len(acked.posts),
                    "likes": len(set(acked.likes)),
                    "follows": len(set(acked.follows)),
                },
                "missing": {what: len(ids) for what, ids in missing.items()},
                "home_checks": homes,
            },
            "missing_examples": {what: sorted(ids)[:20] for what, ids in missing.items()},
            "missing_from_homes": in_home[:50],
        }

    async def _gather(self, work: Iterable[Awaitable[list[T]]]) -> list[T]:
        return [item for found in await asyncio.gather(*work) for item in found]

    async def posts_by_id(self, posts: Sequence[tuple[int, int, str]]) -> list[int]:
        """The acknowledged posts that ``tweet(id:)`` does not answer as they were posted."""

        async def some(batch: Sequence[tuple[int, int, str]]) -> list[int]:
            fields = " ".join(
                f't{n}: tweet(id: "{tweet}") {{ id text author {{ id }} }}'
                for n, (tweet, _, _) in enumerate(batch)
            )
            data = await self.query(batch[0][1], f"{{ {fields} }}")
            wrong = []
            for n, (tweet, author, text) in enumerate(batch):
                found = data[f"t{n}"]
                if not found or found["text"] != text or int(found["author"]["id"]) != author:
                    wrong.append(tweet)
            return wrong

        return await self._gather(some(batch) for batch in chunks(posts, ALIASES))

    async def posts_in_author_tweets(self, posts: Sequence[tuple[int, int, str]]) -> list[int]:
        by_author: dict[int, set[int]] = defaultdict(set)
        for tweet, author, _ in posts:
            by_author[author].add(tweet)

        async def of(author: int, wanted: set[int]) -> list[int]:
            oldest = min(wanted)
            ids = await self.pages(
                author, USER_TWEETS, ("user", "tweets"), {"handle": self.handles[str(author)]},
                until=lambda ids: wanted <= set(ids) or (bool(ids) and ids[-1] < oldest),
            )  # fmt: skip
            return sorted(wanted - set(ids))

        return await self._gather(of(a, w) for a, w in by_author.items())

    async def posts_in_follower_homes(
        self, posts: Sequence[tuple[int, int, str]], follows: Sequence[tuple[int, int]]
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The posts missing from the home timeline of one follower of their author.

        The follower is one who followed the author before the run (not by a follow
        of ``follows``, whose copy of the author's earlier tweets comes from the
        follow's backfill, not from fan-out): from the readers' pool if any, else the
        author's most recent such follower.
        """
        by_author: dict[int, set[int]] = defaultdict(set)
        for tweet, author, _ in posts:
            by_author[author].add(tweet)
        followed_in_run = set(follows)
        lists = await asyncio.gather(
            *(
                self.pages(a, FOLLOWERS, ("user", "followers"), {"handle": self.handles[str(a)]})
                for a in by_author
            )
        )
        followers = dict(zip(by_author, lists, strict=True))
        wanted: dict[int, set[int]] = defaultdict(set)  # follower -> tweets
        authors: dict[int, int] = {}  # tweet -> author
        counts = {"authors": len(by_author), "pool_follower": 0, "other_follower": 0,
                  "no_follower": 0, "posts_unchecked_no_follower": 0}  # fmt: skip
        for author, tweets in by_author.items():
            authors |= dict.fromkeys(tweets, author)
            candidates = [
                f for f in followers[author] if f != author and (f, author) not in followed_in_run
            ]
            in_pool = [f for f in candidates if f in self.pool]
            if in_pool:
                counts["pool_follower"] += 1
                wanted[in_pool[0]] |= tweets
            elif candidates:
                counts["other_follower"] += 1
                wanted[candidates[0]] |= tweets
            else:
                counts["no_follower"] += 1
                counts["posts_unchecked_no_follower"] += len(tweets)

        async def home_of(follower: int, tweets: set[int]) -> list[dict[str, Any]]:
            oldest = min(tweets)
            ids = await self.pages(
                follower, HOME, ("homeTimeline",), {},
                until=lambda ids: tweets <= set(ids) or (bool(ids) and ids[-1] < oldest),
            )  # fmt: skip
            return [
                {
                    "tweet": t,
                    "author": authors[t],
                    "follower": follower,
                    "follower_in_pool": follower in self.pool,
                }
                for t in sorted(tweets - set(ids))
            ]

        return await self._gather(home_of(f, t) for f, t in wanted.items()), counts

    async def likes(self, likes: Sequence[tuple[int, int]]) -> list[int]:
        """The tweets of acknowledged likes whose liker does not see them liked."""
        by_user: dict[int, list[int]] = defaultdict(list)
        for user, tweet in sorted(set(likes)):
            by_user[user].append(tweet)

        async def some(user: int, tweets: Sequence[int]) -> list[int]:
            fields = " ".join(
                f't{n}: tweet(id: "{tweet}") {{ viewerHasLiked }}' for n, tweet in enumerate(tweets)
            )
            data = await self.query(user, f"{{ {fields} }}")
            return [
                t for n, t in enumerate(tweets) if not (data[f"t{n}"] or {}).get("viewerHasLiked")
            ]

        return await self._gather(
            some(user, batch)
            for user, tweets in by_user.items()
            for batch in chunks(tweets, ALIASES)
        )

    async def follows(self, follows: Sequence[tuple[int, int]]) -> list[int]:
        """The followees of acknowledged follows that their follower does not follow."""
        by_user: dict[int, list[int]] = defaultdict(list)
        for follower, followee in sorted(set(follows)):
            by_user[follower].append(followee)

        async def some(user: int, followees: Sequence[int]) -> list[int]:
            fields = " ".join(
                f'u{n}: node(id: "{f}") {{ ... on User {{ viewerFollows }} }}'
                for n, f in enumerate(followees)
            )
            data = await self.query(user, f"{{ {fields} }}")
            return [
                f for n, f in enumerate(followees) if not (data[f"u{n}"] or {}).get("viewerFollows")
            ]

        return await self._gather(
            some(user, batch)
            for user, followees in by_user.items()
            for batch in chunks(followees, ALIASES)
        )
