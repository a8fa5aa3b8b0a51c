"""The embedded search index: FTS5 and a hashtag table in the tweet store's own file.

The tables belong to the tweet store's schema (docstore/sqlite.py), which keeps
them in step with ``tweets`` by triggers in the tweet's own transaction; this
adapter only reads them, on connections of its own to the same file (WAL mode:
a read sees every committed tweet and never waits for the writer).

What matches (FTS5 ``unicode61 remove_diacritics 2``): a word is a run of
letters and digits (Unicode categories L*, N*, Co); everything else separates
words, ``_``, combining marks and emoji included. Case is folded for every
script; diacritics are removed from Latin letters (``cafe`` finds ``Café``,
``CAFÉ`` and a decomposed ``cafe`` + U+0301), not from others (Greek ``καφες``
does not find ``καφές``; ``ø`` and ``ł`` are letters of their own). A word or a
phrase is an FTS5 phrase: its tokens adjacent, in order, whatever separates
them in the tweet (``"new york"`` finds ``New-York``). No stemming, no prefix
matching. A run of CJK characters is one token: ``東京タワー`` finds the tweet
``東京タワー 行った`` but ``東京`` does not (CJK is found by a whole run between
spaces or punctuation, not by a word inside a sentence).

One SELECT per page, newest first, walking one index in id order and stopping
at ``LIMIT``; for words with a hashtag or authors, up to three capped counts
before it pick the index (``choose_driver``). EXPLAIN QUERY PLAN, and the
median time of a 20-tweet page on 1,000,000 tweets (20,000 words and 1,000
hashtags drawn Zipf-like, 30% of tweets with hashtags; a busy 2-core machine):

- words: the FTS5 doclist from the newest rowid down, ``SCAN f VIRTUAL TABLE
  INDEX 192:M1><`` (FTS5 consumes ``ORDER BY rowid DESC`` and the rowid bounds:
  no sort, no scan past the page). Two common words 0.4 ms, a phrase 0.7 ms.
- a hashtag: ``SEARCH h0 USING PRIMARY KEY (tag=? AND tweet_id>? AND
  tweet_id<?)``, backwards: 0.1 ms. Two: the rarer walked, the other probed by
  key: 0.9 ms.
- authors only: one ``tweets_by_author`` range per author, each limited to the
  page, merged: 0.3 ms for three authors.
- dates only: the primary key backwards.

Other conditions are probed per row read: a hashtag or an author by primary
key (under 1 µs), a word in FTS5 (``rowid = ?``, about 40 µs). With words and
a hashtag or authors, the smaller side drives (``choose_driver``): a common
word with a rare hashtag, 43 ms to 0.5 ms on 100,000 tweets (2.8 ms on
1,000,000); a common word from:someone with 500 tweets, 31 ms to 6 ms. Exclusions are ``NOT`` inside the MATCH when there are words, a
``NOT EXISTS`` probe per row read otherwise (``NOT IN`` would collect every
tweet that has the excluded word: a hashtag minus a common word, 10 ms).

User text reaches MATCH only inside FTS5 string literals (``fts_string``), so
no query can be an FTS5 syntax error.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Literal

from core.sqlite import SqliteAdapter, SqliteDatabase, json_list
from search.port import TweetQuery, id_range

_REQUIRED_TABLES = ("tweets", "tweets_fts", "tweet_hashtags")


def fts_string(text: str) -> str:
    """``text`` as an FTS5 string literal: a phrase of the tokens in it, nothing else.

    Quotes are doubled; NUL, which would end the expression inside the string
    ("unterminated string"), becomes a space (it separates words anyway).
    """
    return '"' + text.replace("\x00", " ").replace('"', '""') + '"'


def match_expression(query: TweetQuery) -> str | None:
    """The MATCH expression of the query's words and phrases, exclusions as NOT;
    None when it has no word or phrase to find."""
    wanted = [fts_string(word) for word in query.words]
    wanted += [fts_string(" ".join(phrase)) for phrase in query.phrases]
    if not wanted:
        return None
    expression = " AND ".join(wanted)
    unwanted = exclusion_expression(query)
    return expression if unwanted is None else f"({expression}) NOT ({unwanted})"


def exclusion_expression(query: TweetQuery) -> str | None:
    """A MATCH expression matching the tweets that have an excluded word or phrase."""
    unwanted = [fts_string(word) for word in query.excluded]
    unwanted += [fts_string(" ".join(phrase)) for phrase in query.excluded_phrases]
    return " OR ".join(unwanted) if unwanted else None


# Choosing what a page with words and a hashtag or authors walks (choose_driver).
# Measured on 100,000 tweets (bench section g, a common word with a tag of 65-225
# tweets, an idle machine): reading an FTS5 match and probing a key costs about
# 0.4 µs, probing FTS5 for one rowid 53-77 µs, counting FTS5 matches 0.24 µs each.
# (An earlier figure, 50, was measured on a busy machine and made a common word
# with a tag of 125 tweets walk the tag: 9.6 ms instead of 2.7 ms.)
PROBE_COST = 150  # one FTS5 probe ~ reading this many FTS5 matches
DRIVER_CAP = 2000  # a hashtag or authors with this many tweets in range never drive

Driver = Literal["text", "hashtag", "authors", "time"]


def page_statement(
    query: TweetQuery, limit: int, lowest: int, highest: int, driver: Driver | None = None
) -> tuple[str, list[object]]:
    """The one SELECT of a page: ids in [lowest, highest], newest first, at most ``limit``.

    ``driver`` names the index whose order the page walks (``choose_driver``); by
    default the FTS5 matches when there are words, else a hashtag, else the
    authors, else the time range. Every driver answers every query the same (one
    it cannot walk falls back to the time range); they differ only in speed.
    """
    match = match_expression(query)
    if driver is None:
        driver = "text" if match is not None else _fallback_driver(query)
    if driver == "text" and match is not None:
        return _by_text(query, match, limit, lowest, highest)
    if driver == "hashtag" and query.hashtags:
        return _by_hashtag(query, limit, lowest, highest)
    if driver == "authors" and query.author_ids:
        return _by_authors(query, limit, lowest, highest)
    return _by_time(query, limit, lowest, highest)


def _fallback_driver(query: TweetQuery) -> Driver:
    return "hashtag" if query.hashtags else "authors" if query.author_ids else "time"


def choose_driver(
    conn: sqlite3.Connection, query: TweetQuery, lowest: int, highest: int
) -> tuple[TweetQuery, Driver]:
    """Which index a page walks, and the query with its rarest hashtag first.

    Without words there is one choice. With words and a hashtag or authors, either
    can drive: the FTS5 matches, each probed by key (cheap), or the hashtag's or
    authors' tweets, each probed in FTS5 (PROBE_COST times dearer). SQLite cannot
    tell how many tweets have the words, so this counts, within the id range: the
    hashtag's or authors' tweets up to DRIVER_CAP, then, when fewer, the FTS5
    matches up to PROBE_COST times that. The smaller side drives: "common word
    from:someone" reads that person's tweets instead of every tweet with the word
    (1,000,000 tweets: 31 ms to 6 ms), and no choice reads more than PROBE_COST
    times the other's rows. Counting stops at its cap, so it costs at most about
    72 ms (DRIVER_CAP * PROBE_COST FTS5 matches, when walking either side would take
    longer still), far less for a rare tag or author.
    """
    if len(query.hashtags) > 1:
        ranked = sorted(query.hashtags, key=lambda tag: _count_tag(conn, tag, lowest, highest))
        query = replace(query, hashtags=tuple(ranked))
    match = match_expression(query)
    if match is None:
        return query, _fallback_driver(query)
    if not (query.hashtags or query.author_ids):
        return query, "text"
    counts: list[tuple[int, Driver]] = []
    if query.hashtags:
        counts.append((_count_tag(conn, query.hashtags[0], lowest, highest), "hashtag"))
    if query.author_ids:
        counts.append((_count_authors(conn, query.author_ids, lowest, highest), "authors"))
    rows, driver = min(counts)
    if rows >= DRIVER_CAP:
        return query, "text"
    enough = PROBE_COST * max(rows, 1)
    return query, driver if _count_matches(
        conn, match, lowest, highest, enough
    ) >= enough else "text"


def _count_matches(
    conn: sqlite3.Connection, match: str, lowest: int, highest: int, cap: int
) -> int:
    row = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM tweets_fts"
        " WHERE tweets_fts MATCH ? AND rowid >= ? AND rowid <= ? LIMIT ?)",
        (match, lowest, highest, cap),
    ).fetchone()
    return int(row[0])


def _count_tag(conn: sqlite3.Connection, tag: str, lowest: int, highest: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM tweet_hashtags"
        " WHERE tag = ? AND tweet_id >= ? AND tweet_id <= ? LIMIT ?)",
        (tag, lowest, highest, DRIVER_CAP),
    ).fetchone()
    return int(row[0])


def _count_authors(
    conn: sqlite3.Connection, authors: tuple[int, ...], lowest: int, highest: int
) -> int:
    row = conn.execute(
        "SELECT count(*) FROM (SELECT 1 FROM tweets"
        " WHERE author_id IN (SELECT value FROM json_each(?)) AND id >= ? AND id <= ? LIMIT ?)",
        (json_list(sorted(set(authors))), lowest, highest, DRIVER_CAP),
    ).fetchone()
    return int(row[0])


def _author_filters(query: TweetQuery, author: str, params: list[object]) -> str:
    sql = ""
    if query.author_ids:
        sql += f" AND {author} IN (SELECT value FROM json_each(?))"
        params.append(json_list(sorted(set(query.author_ids))))
    if query.exclude_authors:
        sql += f" AND {author} NOT IN (SELECT value FROM json_each(?))"
        params.append(json_list(sorted(query.exclude_authors)))
    return sql


def _fts_probes(query: TweetQuery, id_column: str, params: list[object]) -> str:
    """Conditions on ``id_column`` checked in FTS5 one row at a time: the words and
    phrases (if any) must match, the excluded ones must not. Per row, so a page
    probes the rows it reads, never every tweet that has an excluded word."""
    sql = ""
    probe = f"SELECT 1 FROM tweets_fts WHERE tweets_fts MATCH ? AND rowid = {id_column}"
    wanted = match_expression(replace(query, excluded=(), excluded_phrases=()))
    if wanted is not None:
        sql += f" AND EXISTS ({probe})"
        params.append(wanted)
    unwanted = exclusion_expression(query)
    if unwanted is not None:
        sql += f" AND NOT EXISTS ({probe})"
        params.append(unwanted)
    return sql


def _hashtag_filters(tags: tuple[str, ...], id_column: str, params: list[object]) -> str:
    sql = ""
    for tag in tags:
        sql += (
            " AND EXISTS (SELECT 1 FROM tweet_hashtags h"
            f" WHERE h.tag = ? AND h.tweet_id = {id_column})"
        )
        params.append(tag)
    return sql


def _by_text(
    query: TweetQuery, match: str, limit: int, lowest: int, highest: int
) -> tuple[str, list[object]]:
    """Walk the FTS5 matches newest first; hashtags and authors probed by primary key."""
    params: list[object] = [match, lowest, highest]
    sql = "SELECT f.rowid FROM tweets_fts f"
    join = bool(query.author_ids or query.exclude_authors)
    if join:
        sql += " JOIN tweets t ON t.id = f.rowid"
    sql += " WHERE tweets_fts MATCH ? AND f.rowid >= ? AND f.rowid <= ?"
    sql += _hashtag_filters(query.hashtags, "f.rowid", params)
    if join:
        sql += _author_filters(query, "t.author_id", params)
    sql += " ORDER BY f.rowid DESC LIMIT ?"
    params.append(limit)
    return sql, params


def _by_hashtag(
    query: TweetQuery, limit: int, lowest: int, highest: int
) -> tuple[str, list[object]]:
    """Walk the first hashtag's primary key backwards; the other hashtags probed by
    key, the words in FTS5."""
    first, *others = query.hashtags
    params: list[object] = [first, lowest, highest]
    sql = "SELECT h0.tweet_id FROM tweet_hashtags h0"
    join = bool(query.author_ids or query.exclude_authors)
    if join:
        sql += " JOIN tweets t ON t.id = h0.tweet_id"
    sql += " WHERE h0.tag = ? AND h0.tweet_id >= ? AND h0.tweet_id <= ?"
    sql += _hashtag_filters(tuple(others), "h0.tweet_id", params)
    if join:
        sql += _author_filters(query, "t.author_id", params)
    sql += _fts_probes(query, "h0.tweet_id", params)
    sql += " ORDER BY h0.tweet_id DESC LIMIT ?"
    params.append(limit)
    return sql, params


def _by_authors(
    query: TweetQuery, limit: int, lowest: int, highest: int
) -> tuple[str, list[object]]:
    """Each author's newest from ``tweets_by_author``, at most ``limit`` each, merged.

    ``author_id IN (...) ORDER BY id DESC`` would read every tweet of every author
    and sort them; one limited branch per author reads at most ``limit`` each.
    """
    params: list[object] = []
    branches = []
    for author in sorted(set(query.author_ids) - query.exclude_authors):
        branch = (
            "SELECT id FROM (SELECT id FROM tweets WHERE author_id = ?"
            " AND id >= ? AND id <= ? AND retweet_of_id IS NULL"
        )
        params += [author, lowest, highest]
        branch += _hashtag_filters(query.hashtags, "id", params)
        branch += _fts_probes(query, "id", params)
        branch += " ORDER BY id DESC LIMIT ?)"
        params.append(limit)
        branches.append(branch)
    if not branches:
        return "SELECT id FROM tweets WHERE 0", []
    sql = " UNION ALL ".join(branches) + " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return sql, params


def _by_time(query: TweetQuery, limit: int, lowest: int, highest: int) -> tuple[str, list[object]]:
    """The primary key backwards from the upper bound: for dates only (any query
    answers the same, more slowly)."""
    params: list[object] = [lowest, highest]
    sql = "SELECT id FROM tweets WHERE id >= ? AND id <= ? AND retweet_of_id IS NULL"
    sql += _author_filters(query, "author_id", params)
    sql += _hashtag_filters(query.hashtags, "id", params)
    sql += _fts_probes(query, "id", params)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return sql, params


class SqliteSearchIndex(SqliteAdapter):
    """Reads the search tables of the tweet store at ``path`` (``tweets.sqlite3``).

    Open the tweet store first: its schema creates the tables this reads.
    """

    def __init__(self, path: Path, readers: int = 2) -> None:
        self.db = SqliteDatabase(path, "", readers=readers)

    async def open(self) -> None:
        await self.db.open()

        def missing(conn: sqlite3.Connection) -> list[str]:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            return [table for table in _REQUIRED_TABLES if table not in names]

        absent = await self.db.read(missing)
        if absent:
            await self.db.close()
            raise RuntimeError(
                f"{self.db.path} has no {', '.join(absent)}: open the tweet store "
                "(docstore.sqlite.SqliteTweetStore) on this file before the search index"
            )

    async def search(
        self, query: TweetQuery, limit: int, before_id: int | None = None
    ) -> list[int]:
        bounds = id_range(query, before_id)
        if limit <= 0 or bounds is None:
            return []
        if query.asks_nothing:
            return []
        lowest, highest = bounds

        def work(conn: sqlite3.Connection) -> list[int]:
            planned, driver = choose_driver(conn, query, lowest, highest)
            sql, params = page_statement(planned, limit, lowest, highest, driver)
            return [row[0] for row in conn.execute(sql, params)]

        return await self.db.read(work)
