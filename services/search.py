"""Tweet search: the search box's language (core/search.py) answered by the search port.

``from:`` handles are resolved in the graph (a search from someone who does not
exist finds nothing); the viewer's blocks (either way) and mutes are excluded in
the index's own query; what the index answers is hydrated from the tweet store,
so a tweet deleted a moment ago is never shown.
"""

from __future__ import annotations

from core.models import TweetRecord
from core.search import parse_search
from docstore.port import TweetStore
from graph.port import SocialGraph
from search.port import SearchIndex, TweetQuery
from services.relations import RelationService


class SearchService:
    def __init__(
        self,
        index: SearchIndex,
        tweets: TweetStore,
        graph: SocialGraph,
        relations: RelationService,
    ) -> None:
        self.index = index
        self.tweets = tweets
        self.graph = graph
        self.relations = relations

    async def search(
        self, viewer_id: int | None, text: str, limit: int, before_id: int | None
    ) -> list[TweetRecord]:
        """Up to ``limit`` tweets matching ``text`` below the cursor, newest first;
        BadUserInput (saying what is wrong) for a malformed query."""
        parsed = parse_search(text)
        author_ids: tuple[int, ...] = ()
        if parsed.from_handles:
            users = await self.graph.get_users_by_handles([h.lower() for h in parsed.from_handles])
            if not users:
                return []  # from: nobody who exists
            author_ids = tuple(sorted(u.id for u in users.values()))
        hidden = await self.relations.hidden(viewer_id) if viewer_id is not None else set()
        query = TweetQuery.from_search(parsed, author_ids, frozenset(hidden))
        if query.asks_nothing:
            return []
        kept: list[TweetRecord] = []
        cursor = before_id
        for _ in range(4):  # a tweet deleted since the index answered leaves a gap: read on
            want = limit - len(kept)
            ids = await self.index.search(query, want, cursor)
            found = await self.tweets.get_tweets(ids)
            kept += [found[i] for i in ids if i in found]
            if len(ids) < want or len(kept) >= limit:
                break
            cursor = ids[-1]
        return kept[:limit]
