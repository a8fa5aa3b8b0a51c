"""The production search index: MongoDB's ``tweets`` collection, through its indexes.

Nothing is copied: the tweet documents (docstore/mongo.py) are searched where
they are, so a tweet is searchable once its insert is acknowledged and gone
once deleted. Indexes on ``tweets`` (``SEARCH_INDEXES``):

- ``words``: ``{text: "text"}``, ``default_language: "none"`` (no stemming, no
  stop words: whole words as written), text index version 3 (case- and
  diacritic-insensitive); ``language_override`` names a field no tweet has, so
  no document can switch its own language on. A collection has at most one
  text index. It holds no ``_id``, so ``open()`` creates it (again: a no-op).
- ``hashtag_newest``: ``{hashtags: 1, _id: -1}``, a ``#tag`` search newest
  first without a sort. Created by ``init_search`` (``python app.py admin
  init``) only, like the tweet store's other ``_id`` indexes.

A page is one ``find`` (more only when candidates fail the check below):
``$text`` for the words, ``hashtags: {$all}``, ``author_id: {$in, $nin}``, an
``_id`` range for since/until and the cursor, sorted by ``_id`` descending. A query without words never uses ``$text``
(hashtags walk ``hashtag_newest``, authors ``author_newest``, dates ``_id``).

How ``$text`` is used, and why Chirp checks its answers. MongoDB ORs the bare
terms of ``$search`` ("a b": a or b), so each word is quoted ("\\"a\\" \\"b\\""),
which ANDs them. But a quoted term is a phrase, and MongoDB matches a phrase as
a substring of the text, case and accents folded (fts_matcher.cpp: the index
finds tweets holding any one of the terms, then every phrase must occur as a
substring): ``"cat" "dog"`` finds "dog concatenate". So each candidate's text
is checked here by ``core.search.text_matches`` (whole words, phrases as
adjacent words, exclusions), and the page is filled from further candidates
when some fail. A phrase is sent as its words, each quoted (a phrase sent
whole would be a substring too: "new york" would miss "new-york", which the
embedded engine finds); the check puts them in order. Excluded words go as
``-word`` (MongoDB negates whole tokens); excluded phrases are left to the
check (MongoDB would exclude a substring: -"new york" would drop "renew
yorkshire").

What matches on MongoDB, then: each word must be a whole MongoDB token (its
delimiters are whitespace, dashes, quotation marks, terminal punctuation and
the Pattern_Syntax symbols: ``#``, ``@``, ``'``, ``.``, ``/``...) and a whole
word to ``core.search``; case folded; accents ignored, Latin and others (Greek
``καφες`` finds ``καφές`` here, not in the embedded engine). Unlike the
embedded engine, ``_`` and emoji do not separate words: ``foo`` does not find
``foo_bar``, nor ``cat`` ``cat🐱`` (``foo_bar`` finds ``foo_bar`` on both).
``ß`` is not ``ss`` on either engine. CJK: no word segmentation with ``none``: a run of CJK
characters is one token, found only whole (``東京`` does not find
``東京タワー``), as in the embedded engine.

Cost on a big collection: MongoDB sorts ``$text`` matches by ``_id`` in memory
(the text index is ordered by term, not by time), so a page of a common word
reads every tweet that has it. Hashtag, author and date pages walk an index in
``_id`` order and stop at the page. A dedicated engine can follow behind the
port.
"""

from __future__ import annotations

from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, TEXT, AsyncMongoClient, IndexModel
from pymongo.errors import OperationFailure

from core.ids import MAX_ID
from core.search import fold, text_matches, word_tokens
from search.port import TweetQuery, id_range

Doc = dict[str, Any]

SEARCH_INDEXES: list[IndexModel] = [
    IndexModel(
        [("text", TEXT)],
        name="words",
        default_language="none",
        # a ``language`` field in a tweet would otherwise switch its stemming on
        language_override="text_index_language",
    ),
    IndexModel([("hashtags", ASCENDING), ("_id", DESCENDING)], name="hashtag_newest"),
]

# Candidates fetched per round when Chirp checks the text: twice the page first
# (at least MIN_BATCH), then four times more each round, up to MAX_BATCH.
MAX_BATCH = 2000
MIN_BATCH = 40
# Words with a hashtag or authors: when the hashtag's (or authors') tweets in range
# are fewer than this, they are walked newest first through their index and their
# text checked here, instead of asking $text (which reads, and sorts, every tweet
# with the words).
DRIVER_CAP = 1000


def _holds_id(index: IndexModel) -> bool:
    return "_id" in index.document["key"]


async def init_search(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create the search indexes on ``tweets`` (``admin init``). Idempotent.

    Returns one line, for the admin command to print.
    """
    names = await client[database]["tweets"].create_indexes(SEARCH_INDEXES)
    return [f"{database}.tweets: search indexes {', '.join(names)}"]


def text_terms(query: TweetQuery) -> tuple[list[str], list[str]]:
    """The words for ``$search``: those that must be there (every word of the
    words and phrases, once each), and the excluded single words."""
    wanted: dict[str, str] = {}
    for word in (*query.words, *(word for phrase in query.phrases for word in phrase)):
        for token in word_tokens(word):
            wanted.setdefault(fold(token), token)
    unwanted = [tokens[0] for word in query.excluded if len(tokens := word_tokens(word)) == 1]
    return list(wanted.values()), unwanted


class MongoSearchIndex:
    def __init__(
        self, client: AsyncMongoClient[Doc], database: str = "chirp", driver_cap: int = DRIVER_CAP
    ) -> None:
        self.client = client
        self.tweets = client.get_database(database)["tweets"]
        self.driver_cap = driver_cap

    async def open(self) -> None:
        """Check the server answers; create the text index (it holds no ``_id``).

        Creating an index that exists is a no-op on MongoDB. The test suite's stand-in
        refuses it ("constraint failed") when the process starts again on a database
        it made before: then a ``$text`` query that answers shows the index is there.
        """
        await self.tweets.database.command("ping")
        try:
            await self.tweets.create_indexes([i for i in SEARCH_INDEXES if not _holds_id(i)])
        except OperationFailure:
            await self.tweets.find_one({"$text": {"$search": '"chirp"'}}, {"_id": 1})

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.tweets.database.command("ping")

    def search_string(self, wanted: list[str], unwanted: list[str]) -> str:
        """``$search``: each wanted word quoted (all must be there), each unwanted negated."""
        return " ".join([*(f'"{word}"' for word in wanted), *(f"-{word}" for word in unwanted)])

    def search_filter(self, query: TweetQuery, lowest: int, highest: int, text: bool = True) -> Doc:
        """The ``find`` filter for ids in [lowest, highest]; without ``$text`` when
        ``text`` is false (the words are then only checked by ``text_matches``)."""
        found: Doc = {}
        wanted, unwanted = text_terms(query) if text else ([], [])
        if wanted:
            found["$text"] = {"$search": self.search_string(wanted, unwanted)}
        if query.hashtags:
            found["hashtags"] = {"$all": list(query.hashtags)}
        author: Doc = {}
        if query.author_ids:
            author["$in"] = [Int64(a) for a in sorted(set(query.author_ids))]
        if query.exclude_authors:
            author["$nin"] = [Int64(a) for a in sorted(query.exclude_authors)]
        if author:
            found["author_id"] = author
        ids: Doc = {}
        if lowest > 0:
            ids["$gte"] = Int64(lowest)
        if highest < MAX_ID:
            ids["$lte"] = Int64(highest)
        if ids:
            found["_id"] = ids
        if not (wanted or query.hashtags):
            # Retweets have empty text and no hashtags: only these pages could meet one.
            # {$eq: null}, the same query as the short form {retweet_of_id: null}, which
            # nx-27017 (the test stand-in) answers with nothing beside an _id range.
            found["retweet_of_id"] = {"$eq": None}
        return found

    async def candidates(self, where: Doc, projection: Doc, limit: int) -> list[Doc]:
        """Up to ``limit`` documents matching ``where``, newest first."""
        cursor = self.tweets.find(where, projection).sort("_id", DESCENDING).limit(limit)
        return await cursor.to_list()

    async def search(
        self, query: TweetQuery, limit: int, before_id: int | None = None
    ) -> list[int]:
        bounds = id_range(query, before_id)
        if limit <= 0 or bounds is None or query.asks_nothing:
            return []
        lowest, highest = bounds
        if not query.has_text_terms:
            docs = await self.candidates(
                self.search_filter(query, lowest, highest), {"_id": 1}, limit
            )
            return [int(doc["_id"]) for doc in docs]
        text = not await self._few_enough_to_walk(query, lowest, highest)
        found: list[int] = []
        batch = max(2 * limit, MIN_BATCH)
        while True:
            docs = await self.candidates(
                self.search_filter(query, lowest, highest, text), {"text": 1}, batch
            )
            for doc in docs:
                if text_matches(
                    doc.get("text") or "",
                    query.words,
                    query.phrases,
                    query.excluded,
                    query.excluded_phrases,
                ):
                    found.append(int(doc["_id"]))
                    if len(found) == limit:
                        return found
            if len(docs) < batch:
                return found
            highest = int(docs[-1]["_id"]) - 1
            batch = min(4 * batch, MAX_BATCH)

    async def _few_enough_to_walk(self, query: TweetQuery, lowest: int, highest: int) -> bool:
        """Whether a page with words walks the hashtag's or authors' tweets instead of
        asking $text: they are fewer than ``driver_cap`` in range (a count that stops
        at the cap, on hashtag_newest or author_newest)."""
        if not (query.words or query.phrases) or not (query.hashtags or query.author_ids):
            return False
        if self.driver_cap <= 0:
            return False
        narrow = self.search_filter(query, lowest, highest, text=False)
        return await self.tweets.count_documents(narrow, limit=self.driver_cap) < self.driver_cap
