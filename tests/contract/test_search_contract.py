"""The SearchIndex contract (search/port.py): every adapter must pass these tests.

Each test posts tweets through the tweet store the index reads (``Searchable``),
then searches with the query language of core/search.py, as the service will:
``parse_search``, from: handles resolved (here from ``HANDLES``), then
``TweetQuery.from_search``. Results are compared as exact lists, newest first.

What the two engines match differently (underscores and emoji inside words,
non-Latin accents) is documented in search/sqlite.py and search/mongo.py and
left out of the shared table; CJK is in it, since both treat a run of CJK
characters as one word.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import BadUserInput
from core.ids import MAX_ID, SnowflakeGenerator, id_timestamp_ms
from core.models import TweetRecord
from core.search import parse_search, text_matches
from core.text import extract_hashtags
from docstore.mongo import connect as mongo_connect
from docstore.sqlite import SqliteTweetStore
from search.mongo import MongoSearchIndex, init_search
from search.port import TweetQuery
from search.sqlite import (
    DRIVER_CAP,
    SqliteSearchIndex,
    choose_driver,
    match_expression,
    page_statement,
)
from tests.backends import MongoTarget, fresh_mongo_db
from tests.contract.conftest import SEARCH_FACTORIES, Searchable

IDS = SnowflakeGenerator(worker_id=13)
ALICE, BOB, CAROL = 101, 202, 303
HANDLES = {"alice": ALICE, "bob": BOB, "carol": CAROL}


def tweet(
    text: str, author: int = ALICE, snowflake: int | None = None, **fields: object
) -> TweetRecord:
    """A tweet as the service makes one: its hashtags extracted from its text."""
    tweet_id = IDS.next_id() if snowflake is None else snowflake
    return TweetRecord(
        id=tweet_id,
        author_id=author,
        text=text,
        created_at_ms=id_timestamp_ms(tweet_id),
        hashtags=tuple(extract_hashtags(text)),
        **fields,  # type: ignore[arg-type]
    )


async def post(searchable: Searchable, *records: TweetRecord) -> list[TweetRecord]:
    for record in records:
        _, created = await searchable.tweets.insert_tweet(record)
        assert created, record
    return list(records)


def query(
    text: str, handles: Mapping[str, int] = HANDLES, exclude_authors: frozenset[int] = frozenset()
) -> TweetQuery:
    parsed = parse_search(text)
    authors = tuple(handles[h.lower()] for h in parsed.from_handles if h.lower() in handles)
    return TweetQuery.from_search(parsed, authors, exclude_authors)


async def search(
    searchable: Searchable,
    text: str | TweetQuery,
    limit: int = 50,
    before_id: int | None = None,
    exclude_authors: frozenset[int] = frozenset(),
) -> list[int]:
    asked = query(text, exclude_authors=exclude_authors) if isinstance(text, str) else text
    return await searchable.index.search(asked, limit, before_id)


def newest_first(records: list[TweetRecord]) -> list[int]:
    return sorted((r.id for r in records), reverse=True)


def at(moment: str) -> int:
    """A tweet id issued at ``moment`` (ISO 8601, UTC)."""
    ms = int(datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp() * 1000)
    return SnowflakeGenerator(worker_id=14, clock_ms=lambda: ms).next_id()


# --- what matches: one corpus, one query per row ----------------------------------------

CORPUS = {
    "cafe accent": "Café au lait",
    "cafe upper": "CAFÉ NOIR",
    "cafe plain": "cafe latte",
    "concatenate": "concatenate strings",
    "cat": "the cat sat",
    "dog and cat": "dog and cat",
    "dog concatenate": "dog concatenate",
    "new york": "New York city",
    "york new": "york new",
    "new-york": "new-york style",
    "renew": "renew yorkshire",
    "brulee recipe": "brulee recipe",
    "brulee": "brulee only",
    "hashtag": "#chirp rocks",
    "word chirp": "birds chirp at dawn",
    "dont": "don't stop",
    "dont curly": "don’t stop",
    "running": "running late",
    "hot dog": "hot dog stand",
    "dog hot": "the dog is hot",
    "cjk": "東京タワー 行った",
    "two tags": "#Chirp and #News today",
}

# (query, the corpus tweets it finds; any order here, newest first in the answer)
SEMANTICS: list[tuple[str, set[str]]] = [
    # accents and case are ignored
    ("cafe", {"cafe accent", "cafe upper", "cafe plain"}),
    ("CAFÉ", {"cafe accent", "cafe upper", "cafe plain"}),
    ("Café noir", {"cafe upper"}),
    # whole words only
    ("cat", {"cat", "dog and cat"}),
    ("concatenate", {"concatenate", "dog concatenate"}),
    # every word must match, in any order, anywhere
    ("dog cat", {"dog and cat"}),
    ("york new", {"new york", "york new", "new-york"}),
    # a phrase: its words adjacent, in order, whatever separates them
    ('"new york"', {"new york", "new-york"}),
    ('"york new"', {"york new"}),
    ('"cat dog"', set()),
    # exclusions, of words and of phrases
    ("brulee -recipe", {"brulee"}),
    ('dog -"hot dog"', {"dog and cat", "dog concatenate", "dog hot"}),
    ("stop -don't", set()),
    # a word with punctuation inside is the phrase of its parts: either apostrophe
    ("don't", {"dont", "dont curly"}),
    # no stemming
    ("run", set()),
    ("running", {"running"}),
    # #tag finds the hashtag only; a bare word also finds a hashtag's text
    ("#chirp", {"hashtag", "two tags"}),
    ("#CHIRP", {"hashtag", "two tags"}),
    ("chirp", {"hashtag", "word chirp", "two tags"}),
    ("#chirp rocks", {"hashtag"}),
    ("#chirp birds", set()),
    ("#chirp #news", {"two tags"}),
    ("#chirp -rocks", {"two tags"}),
    ("#dawn", set()),
    # CJK: a run of CJK characters is one word, found whole only
    ("東京タワー", {"cjk"}),
    ("東京", set()),
]


@pytest.mark.parametrize(("text", "expected"), SEMANTICS, ids=[row[0] for row in SEMANTICS])
async def test_a_query_finds_exactly_the_tweets_it_means(
    searchable: Searchable, text: str, expected: set[str]
) -> None:
    posted = {name: tweet(body) for name, body in CORPUS.items()}
    await post(searchable, *posted.values())
    assert await search(searchable, text) == newest_first([posted[name] for name in expected])


async def test_the_words_of_a_candidate_are_checked_whole_however_many_fail(
    searchable: Searchable,
) -> None:
    # Tweets newer than the one match that an engine may propose and that must be
    # turned down (MongoDB proposes tweets holding excluded phrases, and substrings
    # of quoted words): more of them than one round of candidates.
    match = tweet("dog and cat")
    await post(searchable, match)
    await post(searchable, *(tweet(f"hot dog number {n} concatenate") for n in range(90)))
    assert await search(searchable, 'dog -"hot dog"', limit=5) == [match.id]
    assert await search(searchable, "dog cat", limit=5) == [match.id]


# --- authors, dates, the cursor ----------------------------------------------------------


async def test_from_finds_the_tweets_of_that_author_or_of_any_of_several(
    searchable: Searchable,
) -> None:
    alice = await post(searchable, tweet("cats are great", ALICE), tweet("hello", ALICE))
    bob = await post(searchable, tweet("cats again", BOB), tweet("#cats", BOB))
    carol = await post(searchable, tweet("cats cats", CAROL))
    assert await search(searchable, "from:alice") == newest_first(alice)
    assert await search(searchable, "cats from:Alice") == [alice[0].id]
    assert await search(searchable, "from:alice from:bob") == newest_first(alice + bob)
    assert await search(searchable, "cats from:alice from:carol") == newest_first(
        [alice[0], carol[0]]
    )
    assert await search(searchable, "#cats from:bob") == [bob[1].id]
    assert await search(searchable, "#cats from:alice") == []


async def test_since_is_inclusive_and_until_exclusive_at_midnight_utc(
    searchable: Searchable,
) -> None:
    before = tweet("cat #pet", snowflake=at("2026-11-30T23:59:59.999"))
    first = tweet("cat #pet", snowflake=at("2026-12-01T00:00:00.000"))
    last = tweet("cat #pet", snowflake=at("2026-12-01T23:59:59.999"))
    after = tweet("cat #pet", snowflake=at("2026-12-02T00:00:00.000"))
    await post(searchable, before, first, last, after)
    day = "since:2026-12-01 until:2026-12-02"
    for what in ("cat", "#pet", "from:alice", ""):
        assert await search(searchable, f"{what} {day}") == [last.id, first.id], what
        assert await search(searchable, f"{what} since:2026-12-01") == [
            after.id,
            last.id,
            first.id,
        ], what
        assert await search(searchable, f"{what} until:2026-12-01") == [before.id], what


PAGED_QUERIES = [
    "cat", "big cat", '"big cat"', "#pet", "from:alice", "cat -dog", "since:2026-01-01 -dog",
]  # fmt: skip


@pytest.mark.parametrize("text", PAGED_QUERIES)
async def test_pages_run_newest_first_and_stay_put_while_new_tweets_arrive(
    searchable: Searchable, text: str
) -> None:
    matching = [tweet("a big cat #pet") for _ in range(7)]
    for record in matching:  # with tweets between them that a page must skip
        await post(searchable, record, tweet("a big dog", BOB), tweet("concatenate a dog", BOB))
    expected = newest_first(matching)
    first = await search(searchable, text, limit=3)
    assert first == expected[:3]
    await post(searchable, tweet("a big cat #pet"), tweet("a big cat #pet"))  # newer than any page
    second = await search(searchable, text, limit=3, before_id=first[-1])
    third = await search(searchable, text, limit=3, before_id=second[-1])
    assert second == expected[3:6]
    assert third == expected[6:]
    assert await search(searchable, text, limit=3, before_id=expected[-1]) == []


async def test_a_page_holds_at_most_the_limit(searchable: Searchable) -> None:
    records = await post(searchable, *(tweet(f"cat {n} #pet") for n in range(5)))
    for text in ("cat", "#pet", "from:alice"):
        assert await search(searchable, text, limit=2) == newest_first(records)[:2]
        assert await search(searchable, text, limit=0) == []


# --- what is never found -------------------------------------------------------------


async def test_a_deleted_tweet_is_gone_from_search_at_once(searchable: Searchable) -> None:
    kept, deleted = await post(searchable, tweet("cat #pet"), tweet("cat #pet"))
    assert await search(searchable, "cat") == [deleted.id, kept.id]
    assert await searchable.tweets.delete_tweet(deleted.id) is not None
    for text in ("cat", "#pet", "from:alice", '"cat"', "cat since:2020-01-01"):
        assert await search(searchable, text) == [kept.id], text


async def test_retweets_are_never_found_but_replies_and_quotes_are(
    searchable: Searchable,
) -> None:
    (original,) = await post(searchable, tweet("cat #pet", ALICE))
    retweet = TweetRecord(
        id=IDS.next_id(), author_id=BOB, text="", created_at_ms=0, retweet_of_id=original.id
    )
    _, created = await searchable.tweets.retweet(retweet)
    assert created
    reply, quote = await post(
        searchable,
        tweet("cat reply", CAROL, in_reply_to_id=original.id, in_reply_to_user_id=ALICE),
        tweet("cat quote", CAROL, quote_of_id=original.id),
    )
    assert await search(searchable, "cat") == [quote.id, reply.id, original.id]
    assert await search(searchable, "#pet") == [original.id]
    assert await search(searchable, "from:bob") == []
    assert await search(searchable, "since:2020-01-01") == [quote.id, reply.id, original.id]
    await searchable.tweets.undo_retweet(BOB, original.id)
    assert await search(searchable, "cat") == [quote.id, reply.id, original.id]


async def test_excluded_authors_are_left_out_of_every_kind_of_page(
    searchable: Searchable,
) -> None:
    alice, *_ = await post(
        searchable, tweet("cat #pet", ALICE), tweet("cat #pet", BOB), tweet("cat #pet", CAROL)
    )
    hidden = frozenset({BOB, CAROL})
    for text in ("cat", "#pet", "cat #pet", "since:2020-01-01", "cat -dog", "#pet -dog"):
        assert await search(searchable, text, exclude_authors=hidden) == [alice.id], text
    assert await search(searchable, "from:bob", exclude_authors=hidden) == []
    assert await search(searchable, "cat from:bob from:alice", exclude_authors=hidden) == [alice.id]


async def test_a_query_that_asks_nothing_finds_nothing(searchable: Searchable) -> None:
    await post(searchable, tweet("cat"))
    assert await searchable.index.search(TweetQuery(), 10) == []
    assert await searchable.index.search(TweetQuery(excluded=("dog",)), 10) == []
    # from: handles that name nobody: the caller does not search (TweetQuery.from_search)
    assert (
        await searchable.index.search(
            TweetQuery(author_ids=(BOB,), exclude_authors=frozenset({BOB})), 10
        )
        == []
    )


# --- text that is query syntax to an engine is only text --------------------------------

HOSTILE = [
    "NOT", "OR cat", "cat AND", "NEAR(cat dog)", "cat*", "^cat", "text:cat", "tweets_fts:cat",
    '"cat" OR "dog"', "(cat", "cat)", "{cat}", "[cat]", "cat\\", "\\", "'cat'", "c'a't",
    "+cat", "cat -dog -", "$where", "{$ne: 1}", "-\u00ad", "\u200b", "cat\u0000dog",
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
async def test_query_syntax_of_an_engine_in_the_search_box_is_only_text(
    searchable: Searchable, text: str
) -> None:
    posted = await post(searchable, tweet("a cat"), tweet("NOT OR AND NEAR text"))
    try:
        asked = query(text)
    except BadUserInput:  # the parser may refuse it, saying why
        return
    expected = [
        record
        for record in posted
        if text_matches(
            record.text, asked.words, asked.phrases, asked.excluded, asked.excluded_phrases
        )
    ]
    assert await searchable.index.search(asked, 10) == newest_first(expected)


# --- SQLite: the schema's part ----------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(st.text(min_size=1, max_size=12), max_size=3),
    excluded=st.lists(st.text(min_size=1, max_size=12), max_size=2),
)
def test_no_words_make_an_fts5_syntax_error(words: list[str], excluded: list[str]) -> None:
    # A TweetQuery built by hand, not through the parser: anything at all as words.
    conn = sqlite3.connect(":memory:")
    conn.execute(
        "CREATE VIRTUAL TABLE f USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')"
    )
    conn.execute("INSERT INTO f (text) VALUES ('a cat and \"quotes\"')")
    expression = match_expression(
        TweetQuery(words=tuple(words), phrases=(tuple(words),), excluded=tuple(excluded))
    )
    if expression is not None:
        conn.execute("SELECT rowid FROM f WHERE f MATCH ?", (expression,)).fetchall()


def _fts_integrity(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        # rank 1: compare the index with the content table, not only with itself
        conn.execute("INSERT INTO tweets_fts (tweets_fts, rank) VALUES ('integrity-check', 1)")
        indexed = conn.execute("SELECT count(*) FROM tweets_fts_docsize").fetchone()[0]
        assert indexed == conn.execute("SELECT count(*) FROM tweets").fetchone()[0]
        tags = conn.execute("SELECT tag, tweet_id FROM tweet_hashtags ORDER BY 2, 1").fetchall()
        stored = conn.execute("SELECT id, hashtags FROM tweets WHERE hashtags <> ''").fetchall()
        assert tags == sorted(
            ((tag, tweet_id) for tweet_id, hashtags in stored for tag in hashtags.split(" ")),
            key=lambda row: (row[1], row[0]),
        )
    finally:
        conn.close()


async def test_sqlite_triggers_keep_the_index_exact_through_posts_retweets_and_deletes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tweets.sqlite3"
    store = SqliteTweetStore(path)
    await store.open()
    try:
        first, second, _ = await _post_to(store, "cat #a #b", "dog #b", "bird")
        await store.retweet(
            TweetRecord(
                id=IDS.next_id(), author_id=BOB, text="", created_at_ms=0, retweet_of_id=first.id
            )
        )
        _fts_integrity(path)
        await store.delete_tweet(second.id)
        await store.undo_retweet(BOB, first.id)
        _fts_integrity(path)
    finally:
        await store.close()


async def _post_to(store: SqliteTweetStore, *texts: str) -> list[TweetRecord]:
    records = [tweet(text) for text in texts]
    for record in records:
        await store.insert_tweet(record)
    return records


async def test_sqlite_a_data_folder_from_before_search_is_indexed_when_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tweets.sqlite3"
    store = SqliteTweetStore(path)
    await store.open()
    old = await _post_to(store, "old cat #pet", "old dog")
    await store.close()
    # The folder as an earlier version left it: no search tables, no triggers.
    conn = sqlite3.connect(path)
    triggers = conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    assert len(triggers) == 6
    for (name,) in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE tweets_fts")
    conn.execute("DROP TABLE tweet_hashtags")
    conn.commit()
    conn.close()

    store = SqliteTweetStore(path)
    await store.open()
    index = SqliteSearchIndex(path)
    await index.open()
    try:
        (new,) = await _post_to(store, "new cat #pet")
        assert await index.search(query("cat"), 10) == [new.id, old[0].id]
        assert await index.search(query("#pet"), 10) == [new.id, old[0].id]
        _fts_integrity(path)
        await store.close()
        await store.open()  # opening again changes nothing
        assert await index.search(query("cat"), 10) == [new.id, old[0].id]
        _fts_integrity(path)
    finally:
        await index.close()
        await store.close()


PLANNED = [
    "cat #pet", "cat #rare", "cat from:bob", "cat #pet from:alice", "#pet -dog", "#pet #rare",
    "from:alice -dog", "cat -dog since:2020-01-01", '"big cat" #pet', "#pet from:bob",
]  # fmt: skip


@pytest.mark.parametrize("text", PLANNED)
async def test_sqlite_every_plan_of_a_page_finds_the_same_tweets(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tweets.sqlite3"
    store = SqliteTweetStore(path)
    await store.open()
    try:
        await _post_to(store, *(f"a big cat #pet {'dog' * (n % 2)}" for n in range(30)))
        await _post_to(store, "a big cat #pet #rare", "a dog #pet #rare", "cat #rare")
        await store.insert_tweet(tweet("cat #pet from bob", BOB))
    finally:
        await store.close()
    asked = query(text)
    conn = sqlite3.connect(path)
    try:
        pages = {
            driver: [row[0] for row in conn.execute(*page_statement(asked, 10, 0, MAX_ID, driver))]
            for driver in ("text", "hashtag", "authors", "time")
        }
    finally:
        conn.close()
    assert pages["time"]  # every query here finds something
    assert {driver: pages["time"] for driver in pages} == pages


async def test_sqlite_the_smaller_side_drives_a_page_with_words_and_a_hashtag_or_authors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tweets.sqlite3"
    store = SqliteTweetStore(path)
    await store.open()
    try:
        await _post_to(store, *(f"cat {n} #pet" for n in range(DRIVER_CAP)))
        await _post_to(store, "cat #rare", "dog #rare")
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        for text, driver in [
            # 2 #rare, DRIVER_CAP and more "cat": walk #rare, probe "cat" in FTS5
            ("cat #rare", "hashtag"),
            # 1 "dog", under PROBE_COST * 2: walk "dog", probe #rare by key
            ("dog #rare", "text"),
            ("cat #pet", "text"),  # DRIVER_CAP #pet: the word's matches, whatever they are
            ("cat #pet #rare", "hashtag"),
            ("cat from:bob", "authors"),  # bob has no tweets
            ("cat from:alice", "text"),
            ("#pet", "hashtag"),
            ("from:alice", "authors"),
            ("since:2020-01-01", "time"),
        ]:
            planned, chosen = choose_driver(conn, query(text), 0, MAX_ID)
            assert chosen == driver, text
        planned, _ = choose_driver(conn, query("cat #pet #rare"), 0, MAX_ID)
        assert planned.hashtags == ("rare", "pet")  # the rarest walked, the other probed
    finally:
        conn.close()


async def test_sqlite_the_index_refuses_a_file_without_the_tweet_store_schema(
    tmp_path: Path,
) -> None:
    index = SqliteSearchIndex(tmp_path / "tweets.sqlite3")
    with pytest.raises(RuntimeError, match="open the tweet store"):
        await index.open()


# --- MongoDB: the admin step, and both ways of answering words with a hashtag -----------


WALKED = ["cat #pet", "big cat #pet", '"big cat" #pet', "cat -dog #pet", "cat from:bob", "cat #pet from:alice"]  # fmt: skip


@pytest.mark.parametrize("text", WALKED)
async def test_mongo_words_with_a_hashtag_or_authors_find_the_same_by_text_or_by_walking(
    request: pytest.FixtureRequest, text: str
) -> None:
    async with SEARCH_FACTORIES["mongo"](request) as searchable:
        index = searchable.index
        assert isinstance(index, MongoSearchIndex)
        posted = await post(
            searchable,
            *(tweet(f"a big cat #pet {'dog' * (n % 3 == 0)}", ALICE) for n in range(12)),
            *(tweet(f"cat concatenate #pet {n}", BOB) for n in range(5)),
            tweet("a big dog #pet", ALICE),
        )
        asked = query(text)
        expected = newest_first(
            [
                record
                for record in posted
                if set(asked.hashtags) <= set(record.hashtags)
                and (not asked.author_ids or record.author_id in asked.author_ids)
                and text_matches(record.text, asked.words, asked.phrases, asked.excluded)
            ]
        )
        assert expected
        pages = {}
        for cap in (0, 1000):  # 0: always $text; 1000: walk these few tweets and check them
            index.driver_cap = cap
            first = await index.search(asked, 4)
            pages[cap] = first + await index.search(asked, 50, before_id=first[-1])
        assert pages == {0: expected, 1000: expected}


async def test_the_mongo_admin_step_creates_the_search_indexes_and_can_run_again(
    mongo_target: MongoTarget,
) -> None:
    # A database of its own: on nx-27017 an index holding _id breaks later inserts.
    database = fresh_mongo_db()
    client = mongo_connect(mongo_target.uri)
    try:
        for _ in range(2):
            assert await init_search(client, database) == [
                f"{database}.tweets: search indexes words, hashtag_newest"
            ]
    finally:
        await client.drop_database(database)
        await client.close()
