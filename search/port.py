"""The search port: which tweets match a query, newest first.

A query (``TweetQuery``, parsed from the search box's language by
``core/search.py``) holds words that must all match, phrases that must match
as written, words and phrases that must not match, hashtags that must all be
carried (an exact match on the tweet's case-folded hashtags, from an index on
them, not text search), authors, and a time range. Words are single words as
``core.search.word_tokens`` splits text; ``TweetQuery.from_search`` builds the
query from the parsed search box. Words and phrases match whole words,
ignoring case and Latin accents (``café`` finds ``Cafe``); no stemming (``run``
does not find ``running``), no prefixes; a bare word also finds a hashtag's
text, ``#tag`` only the hashtag. Where the engines' tokenizers differ (``_``,
emoji, non-Latin accents) each adapter's docstring says what it matches. A
query that asks nothing (``asks_nothing``) matches nothing.

Results are ids, newest first, below a cursor id, so a page is stable while new
tweets arrive; a page is short only when nothing more matches. Deleted tweets
never match; retweets never do (their text is empty, they carry no hashtags,
and author and date pages leave them out); replies and quotes do.

The index is kept in step with the tweet store by the store itself: the
embedded adapter's FTS5 table is filled by triggers in the tweet's own
transaction (searchable as soon as the post returns), the production adapter
queries the tweets collection through its text index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from core.ids import MAX_ID, min_id_for_ms
from core.search import ParsedSearch


@dataclass(frozen=True)
class TweetQuery:
    words: tuple[str, ...] = ()  # each must match, as a whole word
    phrases: tuple[tuple[str, ...], ...] = ()  # each: these words, in this order, adjacent
    excluded: tuple[str, ...] = ()  # none may match
    excluded_phrases: tuple[tuple[str, ...], ...] = ()  # none may match
    hashtags: tuple[str, ...] = ()  # case-folded, without '#': each must be carried
    author_ids: tuple[int, ...] = ()  # from:handle, resolved; empty: any author
    since_ms: int | None = None  # created at or after (inclusive)
    until_ms: int | None = None  # created before (exclusive)
    exclude_authors: frozenset[int] = field(default_factory=frozenset)  # blocked, muted

    @classmethod
    def from_search(
        cls,
        parsed: ParsedSearch,
        author_ids: tuple[int, ...] = (),
        exclude_authors: frozenset[int] = frozenset(),
    ) -> TweetQuery:
        """The query of a parsed search box, its from: handles resolved to ``author_ids``.

        A search with from: handles none of which exists matches nothing: the caller
        answers it without asking the index (empty ``author_ids`` means any author).
        """
        return cls(
            words=parsed.words,
            phrases=parsed.phrases,
            excluded=parsed.excluded,
            excluded_phrases=parsed.excluded_phrases,
            hashtags=parsed.hashtags,
            author_ids=author_ids,
            since_ms=parsed.since_ms,
            until_ms=parsed.until_ms,
            exclude_authors=exclude_authors,
        )

    @property
    def has_text_terms(self) -> bool:
        """Words or phrases to find, or to exclude: a question for the text index."""
        return bool(self.words or self.phrases or self.excluded or self.excluded_phrases)

    @property
    def asks_nothing(self) -> bool:
        """No words, phrases, hashtags, authors or dates: such a query matches nothing
        (exclusions alone are no search; core.search refuses them)."""
        return not (
            self.words
            or self.phrases
            or self.hashtags
            or set(self.author_ids) - self.exclude_authors
            or self.since_ms is not None
            or self.until_ms is not None
        )


def id_range(query: TweetQuery, before_id: int | None) -> tuple[int, int] | None:
    """The ids a page may hold, ``(lowest, highest)`` inclusive, or None when none can.

    Snowflake ids sort by time, so since/until become id bounds
    (``core.ids.min_id_for_ms``): a tweet posted at or after ``since_ms`` has an id
    at least ``min_id_for_ms(since_ms)``, one posted before ``until_ms`` an id below
    ``min_id_for_ms(until_ms)``. Bounds beyond the id space are clamped to it.
    """
    lowest, highest = 0, MAX_ID
    if query.since_ms is not None:
        lowest = min_id_for_ms(query.since_ms)
    if query.until_ms is not None:
        highest = min(highest, min_id_for_ms(query.until_ms) - 1)
    if before_id is not None:
        highest = min(highest, before_id - 1)
    return (lowest, highest) if lowest <= highest else None


class SearchIndex(Protocol):
    async def search(
        self, query: TweetQuery, limit: int, before_id: int | None = None
    ) -> list[int]:
        """Ids of up to ``limit`` matching tweets with id < before_id, newest first."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
