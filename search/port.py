"""The search port: which tweets match a query, newest first.

A query (``TweetQuery``, parsed from the search box's language by
``core/search.py``) holds words that must all match, phrases that must match
as written, words that must not match, hashtags that must all be carried (an
exact match on the tweet's case-folded hashtags, from an index on them, not
text search), authors, and a time range. Words and phrases match whole words,
ignoring case and accents (``café`` finds ``Cafe``); no stemming (``run`` does
not find ``running``). Results are ids, newest first, below a cursor id, so a
page is stable while new tweets arrive. Deleted tweets never match; retweets
are not indexed (their text is empty); replies and quotes are.

The index is kept in step with the tweet store by the store itself: the
embedded adapter's FTS5 table is filled by triggers in the tweet's own
transaction (searchable as soon as the post returns), the production adapter
queries the tweets collection through its text index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TweetQuery:
    words: tuple[str, ...] = ()  # each must match, as a whole word
    phrases: tuple[tuple[str, ...], ...] = ()  # each: these words, in this order, adjacent
    excluded: tuple[str, ...] = ()  # none may match
    hashtags: tuple[str, ...] = ()  # case-folded, without '#': each must be carried
    author_ids: tuple[int, ...] = ()  # from:handle, resolved; empty: any author
    since_ms: int | None = None  # created at or after (inclusive)
    until_ms: int | None = None  # created before (exclusive)
    exclude_authors: frozenset[int] = field(default_factory=frozenset)  # blocked, muted

    @property
    def matches_nothing_by_text(self) -> bool:
        """No words, phrases or hashtags: only authors and dates narrow it down."""
        return not (self.words or self.phrases or self.hashtags)


class SearchIndex(Protocol):
    async def search(
        self, query: TweetQuery, limit: int, before_id: int | None = None
    ) -> list[int]:
        """Ids of up to ``limit`` matching tweets with id < before_id, newest first."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
