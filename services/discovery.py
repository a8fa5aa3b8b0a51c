"""Discovery: who to follow and people search (tweet search is services/search.py, trends
services/trends.py).

Who to follow asks the graph for friends of friends (a bounded second hop: see
``SocialGraph.suggestions``), falling back to the most followed accounts for a
viewer whose followees follow nobody new. The ranked candidates are kept per
viewer for ``ttl_seconds`` (``CHIRP_WHO_TO_FOLLOW_CACHE_SECONDS``, default 180); every answer drops, at
read time, whoever the viewer has followed, blocked, been blocked by or muted
since, so the cache never shows what it must not.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from core.errors import BadUserInput
from core.models import UserRecord
from graph.port import SocialGraph
from services.relations import RelationService, now_ms

SUGGESTION_TTL_SECONDS = 180.0
MAX_SUGGESTIONS = 50  # whoToFollow(limit:) at most; the cache keeps this many per viewer
SUGGESTION_CACHE_VIEWERS = 10_000
MAX_USER_QUERY = 50


class WhoToFollow:
    def __init__(
        self,
        graph: SocialGraph,
        relations: RelationService,
        ttl_seconds: float = SUGGESTION_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graph = graph
        self.relations = relations
        self.ttl = ttl_seconds
        self.clock = clock
        self._cache: OrderedDict[int, tuple[float, list[int]]] = OrderedDict()

    async def _candidates(self, viewer_id: int) -> list[int]:
        cached = self._cache.get(viewer_id)
        if cached is not None and self.clock() - cached[0] < self.ttl:
            self._cache.move_to_end(viewer_id)
            return cached[1]
        now = now_ms()
        ranked = [u for u, _ in await self.graph.suggestions(viewer_id, MAX_SUGGESTIONS, now)]
        if len(ranked) < MAX_SUGGESTIONS:  # a new user: the most followed accounts
            popular = await self.graph.popular(viewer_id, MAX_SUGGESTIONS, now)
            ranked += [u for u in popular if u not in set(ranked)]
        candidates = ranked[:MAX_SUGGESTIONS]
        self._cache[viewer_id] = (self.clock(), candidates)
        self._cache.move_to_end(viewer_id)
        while len(self._cache) > SUGGESTION_CACHE_VIEWERS:
            self._cache.popitem(last=False)
        return candidates

    async def suggest(self, viewer_id: int, limit: int) -> list[UserRecord]:
        if not 1 <= limit <= MAX_SUGGESTIONS:
            raise BadUserInput(f"`limit` is from 1 to {MAX_SUGGESTIONS}.")
        candidates = await self._candidates(viewer_id)
        if not candidates:
            return []
        followed = await self.graph.existing_follows([(viewer_id, u) for u in candidates])
        hidden = await self.relations.hidden(viewer_id)
        keep = [
            u
            for u in candidates
            if u != viewer_id and (viewer_id, u) not in followed and u not in hidden
        ][:limit]
        users = await self.graph.get_users(keep)
        return [users[u] for u in keep if u in users]


class PeopleSearch:
    def __init__(self, graph: SocialGraph, relations: RelationService) -> None:
        self.graph = graph
        self.relations = relations

    async def search(
        self, viewer_id: int | None, query: str, limit: int, offset: int
    ) -> tuple[list[tuple[int, UserRecord]], bool]:
        """Users whose handle (then display name) the query begins, best first, without
        accounts blocked either way or muted: (the offset just past each in the ranking,
        the user) pairs, and whether more follow."""
        text = query.strip().lstrip("@")
        if len(text) > MAX_USER_QUERY:
            raise BadUserInput(f"`query` is at most {MAX_USER_QUERY} characters.")
        if not text or limit == 0:
            return [], False
        hidden = await self.relations.hidden(viewer_id) if viewer_id is not None else set()
        found = await self.graph.search_users(text, limit + 1 + len(hidden), offset)
        page: list[tuple[int, UserRecord]] = []
        for index, user in enumerate(found):
            if user.id in hidden:
                continue
            if len(page) == limit:
                return page, True
            page.append((offset + index + 1, user))
        return page, False
