"""The timeline service: home and user timelines above the ports.

Home timeline (this stage): pull. The viewer's followees come from the graph
in one call, and their newest tweets from the tweet store in one call, keyset-
paginated by tweet id. A page therefore costs a constant number of store
calls whatever the page size or the number of followees; authors and viewer
flags are then hydrated in batches by the request's DataLoaders.
"""

from __future__ import annotations

from core.models import TweetRecord
from docstore.port import TweetStore
from graph.port import SocialGraph


class TimelineService:
    def __init__(self, graph: SocialGraph, tweets: TweetStore) -> None:
        self.graph = graph
        self.tweets = tweets

    async def home(self, viewer_id: int, limit: int, before_id: int | None) -> list[TweetRecord]:
        """The viewer's and their followees' tweets, newest first, ids below ``before_id``."""
        authors = [viewer_id, *await self.graph.following_ids(viewer_id)]
        return await self.tweets.tweets_by_authors(authors, limit, before_id)

    async def user(
        self, user_id: int, limit: int, before_id: int | None, include_replies: bool
    ) -> list[TweetRecord]:
        return await self.tweets.tweets_by_authors(
            [user_id], limit, before_id, include_replies=include_replies
        )
