"""The production social graph: Neo4j through the official async driver.

Data model (operators and data tools rely on it)::

    (:User {id, handle, handle_lower, display_name, bio, created_at, password_hash, celebrity})
        -[:FOLLOWS {since}]->(:User)
    (:User)-[:BLOCKS {since}]->(:User)
    (:User)-[:MUTES {since, expires_at, hide_notifications}]->(:User)
    (:User {followers, name_words})-[:NAME_WORD]->(:NameWord {word})

``id`` is the snowflake id (int64), ``created_at``, ``since`` and ``expires_at``
are Unix milliseconds (int64); ``celebrity`` (absent means false) is set by the fan-out
workers for authors whose tweets are merged at read time instead of pushed.
There is at most one relationship of each type from one user to another (MERGE
between the two bound nodes, which locks both). ``BLOCKS`` is made in the same
transaction that deletes the ``FOLLOWS`` between the two users, both ways.
``MUTES.expires_at`` absent means until unmuted; a mute whose ``expires_at`` is
not after the reading's ``now`` counts as absent everywhere, so expired mutes
need no sweeping (muting again replaces one, unmuting deletes it).
``hide_notifications`` is a boolean.

Discovery: ``followers`` is the user's number of ``FOLLOWS`` in, kept by the
transaction that creates or deletes one (follow, unfollow, block), so ranking by
it counts nothing. ``name_words`` are the words of the display name (lower case,
no accents: ``graph.port.name_words``), and each word is also a ``NameWord``
node of its own (one per user and word, never shared, so writers never contend
for it) whose range index answers word-prefix reads (``STARTS WITH``): Neo4j
range indexes do not index list elements, and the fulltext index that real Neo4j
would offer cannot be created through the Bolt stand-in's Cypher. Both are set
by ``create_user`` and ``update_profile``; ``open`` back-fills users stored
without them (by an earlier version). Unique
constraints on ``User.id`` and ``User.handle_lower`` and indexes on
``User.celebrity``, ``User.followers`` and ``NameWord.word`` are created at start-up (idempotent). Writes go through
``execute_write`` and reads through ``execute_read``, which retry transient
errors (deadlocks, leader switches). Lists are paginated in the database by
the ``(since, id)`` keyset; counts use ``COUNT {}`` subqueries, which Neo4j
answers from its relationship degree store without scanning.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from core.models import BlockOutcome, Credentials, FollowEdge, NewUser, UserRecord
from graph.port import (
    SUGGESTION_PER_FOLLOWEE,
    SUGGESTION_SAMPLE,
    BlockedError,
    HandleTakenError,
    handle_prefix,
    name_words,
)

# Driver errors that mean "the graph is unreachable right now", not "your query is wrong".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

CONSTRAINTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE",
    "CREATE CONSTRAINT user_handle_lower IF NOT EXISTS FOR (u:User) REQUIRE u.handle_lower IS UNIQUE",
    # followed_celebrities starts from the few users marked celebrity
    "CREATE INDEX user_celebrity IF NOT EXISTS FOR (u:User) ON (u.celebrity)",
    # popular reads the most followed users from it; search_users the name words
    "CREATE INDEX user_followers IF NOT EXISTS FOR (u:User) ON (u.followers)",
    "CREATE INDEX name_word IF NOT EXISTS FOR (w:NameWord) ON (w.word)",
)

_USER_FIELDS: LiteralString = (
    "u.id AS id, u.handle AS handle, u.display_name AS display_name, u.bio AS bio,"
    " u.created_at AS created_at"
)


# A mute relationship ``m`` counts while it has no end or its end is after $now.
_ACTIVE: LiteralString = "(m.expires_at IS NULL OR m.expires_at > $now)"

# ``WITH me`` before UNWIND: the Bolt stand-in (ArcadeDB) answers no rows for
# MATCH, UNWIND, MATCH in a row; on Neo4j the WITH changes nothing.
HIDDEN_AMONG_CYPHER: LiteralString = (
    "MATCH (me:User {id: $viewer}) WITH me"
    " UNWIND $ids AS id MATCH (o:User {id: id}) WHERE o <> me"
    " AND (EXISTS { (me)-[:BLOCKS]-(o) }"
    " OR EXISTS { MATCH (me)-[m:MUTES]->(o)"
    f" WHERE {_ACTIVE} AND (NOT $notifications OR m.hide_notifications) }})"
    " RETURN DISTINCT o.id AS id"
)

# From the viewer's own relationships (blocks either way, the viewer's mutes).
HIDDEN_IDS_CYPHER: LiteralString = (
    "MATCH (me:User {id: $viewer})-[m:BLOCKS|MUTES]-(o:User) WHERE o <> me"
    " AND (type(m) = 'BLOCKS' OR (startNode(m) = me"
    f" AND {_ACTIVE} AND (NOT $notifications OR m.hide_notifications)))"
    " RETURN DISTINCT o.id AS id"
)

# One query for a fan-out batch: each reader is found by index, then its own
# relationships to the (one or two) authors are checked; readers that are no user
# are left out.
AUDIENCE_CYPHER: LiteralString = (
    "UNWIND $readers AS rid MATCH (r:User {id: rid})"
    " WHERE NOT EXISTS { MATCH (r)-[:BLOCKS]-(a:User) WHERE a.id IN $authors }"
    " AND NOT EXISTS { MATCH (r)-[m:MUTES]->(a:User)"
    f" WHERE a.id IN $authors AND {_ACTIVE} }}"
    " AND ($must_follow IS NULL OR r.id = $must_follow"
    " OR EXISTS { (r)-[:FOLLOWS]->(:User {id: $must_follow}) })"
    " RETURN DISTINCT r.id AS id"
)


# Who to follow, in one query. The viewer's :sample newest follows; all their follows,
# newest first, of which each one's first :per_followee are kept (collect keeps the
# order) and counted per user. The exclusions are a set difference in one aggregation:
# the candidates as [id, mutual >= 1, followers] and the excluded (the viewer, its
# followees, blocks either way, active mutes) as [id, 0, 0], grouped by id; a group
# with a 0 is dropped, reading the viewer's relationships once. (Per candidate, an
# EXISTS on the viewer's follows, or ``id IN list``, walks all of them: 1 ms a candidate
# on the stand-in for a viewer of 2,000 follows.)
SUGGESTIONS_CYPHER: LiteralString = (
    "MATCH (me:User {id: $viewer})-[r:FOLLOWS]->(f:User)"
    " WITH me, f, r.since AS since ORDER BY since DESC, f.id DESC LIMIT $sample"
    " MATCH (f)-[r:FOLLOWS]->(c:User)"
    " WITH me, f, c, r.since AS since ORDER BY since DESC, c.id DESC"
    " WITH me, f, collect(c)[..$per_followee] AS picks"
    " UNWIND picks AS c WITH me, c, count(*) AS mutual"
    " WITH me, collect([c.id, mutual, c.followers]) AS candidates"
    " UNWIND candidates + [[me.id, 0, 0]]"
    "  + [(me)-[:FOLLOWS]->(x:User) | [x.id, 0, 0]]"
    "  + [(me)-[:BLOCKS]-(x:User) | [x.id, 0, 0]]"
    f"  + [(me)-[m:MUTES]->(x:User) WHERE {_ACTIVE} | [x.id, 0, 0]] AS row"
    # plain variables first: the stand-in groups by them far faster than by row[0]
    " WITH row[0] AS id, row[1] AS mutual, row[2] AS followers"
    " WITH id, min(mutual) AS least, max(mutual) AS mutual, max(followers) AS followers"
    " WHERE least > 0"
    " RETURN id, mutual ORDER BY mutual DESC, followers ASC, id ASC LIMIT $limit"
)

# Whom popular leaves out for the viewer: followees, blocks either way, active mutes
# (each a typed, directed expansion of the viewer: its followers are never read).
POPULAR_EXCLUDED_CYPHER: LiteralString = (
    "MATCH (me:User {id: $viewer})"
    " RETURN [(me)-[:FOLLOWS]->(o:User) | o.id] + [(me)-[:BLOCKS]-(o:User) | o.id]"
    f" + [(me)-[m:MUTES]->(o:User) WHERE {_ACTIVE} | o.id] AS ids"
)

# The :window most followed users (an index-backed ORDER BY on Neo4j: a walk of the
# followers index from the top that stops after :window entries).
POPULAR_TOP_CYPHER: LiteralString = (
    "MATCH (u:User) WHERE u.followers > 0"
    " RETURN u.id AS id, u.followers AS followers"
    " ORDER BY followers DESC, id ASC LIMIT $window"
)

# Handle matches: a range read of the unique handle_lower index, ranked; how many there
# are too, so that the name matches of a later page start at the right place.
SEARCH_HANDLES_CYPHER: LiteralString = (
    "MATCH (u:User) WHERE u.handle_lower STARTS WITH $prefix"
    " WITH u ORDER BY size(u.handle_lower), u.handle_lower"
    " WITH collect(u) AS matches"
    " RETURN size(matches) AS total,"
    " [u IN matches[$offset..$offset + $limit] | {id: u.id, handle: u.handle,"
    " display_name: u.display_name, bio: u.bio, created_at: u.created_at}] AS page"
)

# Name matches: the users with a NameWord that the longest query word begins (a range
# read of the NameWord index), kept if every query word begins one of their words and
# their handle is not a match already; most followed first.
SEARCH_NAMES_CYPHER: LiteralString = (
    "MATCH (w:NameWord) WHERE w.word STARTS WITH $longest"
    " MATCH (u:User)-[:NAME_WORD]->(w)"
    " WITH DISTINCT u WHERE ($prefix IS NULL OR NOT u.handle_lower STARTS WITH $prefix)"
    " AND all(q IN $words WHERE any(x IN u.name_words WHERE x STARTS WITH q))"
    f" RETURN {_USER_FIELDS}, u.followers AS followers"
    " ORDER BY followers DESC, id ASC SKIP $offset LIMIT $limit"
)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _distinct_words(display_name: str) -> list[str]:
    """The name's words, each once, in order."""
    return list(dict.fromkeys(name_words(display_name)))


async def _set_name_words(tx: AsyncManagedTransaction, users: list[dict[str, Any]]) -> None:
    """Replace the name words (property and NameWord nodes) of each ``{id, words}``."""
    await tx.run(
        "UNWIND $users AS row MATCH (u:User {id: row.id})"
        " OPTIONAL MATCH (u)-[:NAME_WORD]->(old:NameWord) DETACH DELETE old",
        {"users": users},
    )
    await tx.run(
        "UNWIND $users AS row MATCH (u:User {id: row.id}) SET u.name_words = row.words"
        " WITH u, row UNWIND row.words AS word CREATE (u)-[:NAME_WORD]->(:NameWord {word: word})",
        {"users": users},
    )


def _user(row: dict[str, Any]) -> UserRecord:
    return UserRecord(
        id=row["id"],
        handle=row["handle"],
        display_name=row["display_name"] or "",
        bio=row["bio"] or "",
        created_at_ms=row["created_at"] or 0,
    )


def connect(uri: str, user: str, password: str) -> AsyncDriver:
    """A driver that gives up on an unreachable graph within seconds (default: 30 s of retries)."""
    return AsyncGraphDatabase.driver(
        uri,
        auth=(user, password),
        connection_timeout=5.0,
        max_transaction_retry_time=5.0,
        connection_acquisition_timeout=10.0,
    )


class Neo4jSocialGraph:
    def __init__(self, driver: AsyncDriver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database

    async def open(self) -> None:
        """Check the connection and create the constraints (harmless when they exist)."""
        await self.driver.verify_connectivity()
        for statement in CONSTRAINTS:
            await self.driver.execute_query(statement, database_=self.database)
        await self._backfill_discovery()

    async def _backfill_discovery(self, batch: int = 5000) -> None:
        """Give users stored by an earlier version their follower count and name words.

        In batches of ``batch`` users, each batch one transaction; a user written
        meanwhile by this version already has both and is skipped. Finding the
        users without them reads every User node once per start.
        """
        while True:
            rows = await self._write(
                "MATCH (u:User) WHERE u.followers IS NULL WITH u LIMIT $batch"
                " SET u.followers = COUNT { (u)<-[:FOLLOWS]-() } RETURN count(u) AS n",
                {"batch": batch},
            )
            if not rows or rows[0]["n"] < batch:
                break
        while True:
            users = await self._read(
                "MATCH (u:User) WHERE u.name_words IS NULL"
                " RETURN u.id AS id, u.display_name AS name LIMIT $batch",
                {"batch": batch},
            )
            if not users:
                break
            words = [
                {"id": row["id"], "words": _distinct_words(row["name"] or "")} for row in users
            ]
            async with self.driver.session(database=self.database) as session:
                await session.execute_write(_set_name_words, words)
            if len(users) < batch:
                break

    async def close(self) -> None:
        await self.driver.close()

    async def ping(self) -> None:
        await self._read("RETURN 1 AS ok", {})

    async def _read(self, query: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            return await result.data()

        async with self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    async def _write(self, query: LiteralString, params: dict[str, Any]) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(query, params)
            return await result.data()

        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(work)

    async def create_user(self, user: NewUser) -> UserRecord:
        try:
            await self._write(
                "CREATE (u:User {id: $id, handle: $handle, handle_lower: $handle_lower,"
                " display_name: $display_name, bio: $bio, created_at: $created_at,"
                " password_hash: $password_hash, followers: 0, name_words: $words})"
                " WITH u UNWIND $words AS word CREATE (u)-[:NAME_WORD]->(:NameWord {word: word})",
                {
                    "words": _distinct_words(user.display_name),
                    "id": user.id,
                    "handle": user.handle,
                    "handle_lower": user.handle.lower(),
                    "display_name": user.display_name,
                    "bio": user.bio,
                    "created_at": user.created_at_ms,
                    "password_hash": user.password_hash,
                },
            )
        except ConstraintError as exc:
            raise HandleTakenError(user.handle) from exc
        return UserRecord(user.id, user.handle, user.display_name, user.bio, user.created_at_ms)

    async def get_users(self, ids: Sequence[int]) -> dict[int, UserRecord]:
        if not ids:
            return {}
        rows = await self._read(
            f"MATCH (u:User) WHERE u.id IN $ids RETURN {_USER_FIELDS}", {"ids": list(set(ids))}
        )
        return {row["id"]: _user(row) for row in rows}

    async def has_users(self) -> bool:
        return bool(await self._read("MATCH (u:User) RETURN u.id AS id LIMIT 1", {}))

    async def get_users_by_handles(self, handles_lower: Sequence[str]) -> dict[str, UserRecord]:
        if not handles_lower:
            return {}
        rows = await self._read(
            f"MATCH (u:User) WHERE u.handle_lower IN $handles RETURN {_USER_FIELDS}",
            {"handles": list({h.lower() for h in handles_lower})},
        )
        users = [_user(row) for row in rows]
        return {user.handle_lower: user for user in users}

    async def get_credentials(self, handle_lower: str) -> Credentials | None:
        rows = await self._read(
            "MATCH (u:User {handle_lower: $handle}) RETURN u.id AS id, u.password_hash AS hash",
            {"handle": handle_lower},
        )
        return Credentials(rows[0]["id"], rows[0]["hash"]) if rows else None

    async def update_profile(
        self, user_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord | None:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            result = await tx.run(
                "MATCH (u:User {id: $id})"
                " SET u.display_name = coalesce($display_name, u.display_name),"
                " u.bio = coalesce($bio, u.bio)"
                f" RETURN {_USER_FIELDS}",
                {"id": user_id, "display_name": display_name, "bio": bio},
            )
            rows = await result.data()
            if rows and display_name is not None:
                await _set_name_words(tx, [{"id": user_id, "words": _distinct_words(display_name)}])
            return rows

        async with self.driver.session(database=self.database) as session:
            rows = await session.execute_write(work)
        return _user(rows[0]) if rows else None

    async def follow(self, follower_id: int, followee_id: int, since_ms: int) -> bool | None:
        # MERGE locks both end nodes, so concurrent follows never duplicate the edge; a
        # block takes the same locks, so the block check after the MERGE sees any block
        # committed before, and a block committed after finds this edge to delete.
        async def work(tx: AsyncManagedTransaction) -> bool | None:
            result = await tx.run(
                "MATCH (a:User {id: $a}), (b:User {id: $b})"
                " MERGE (a)-[r:FOLLOWS]->(b) ON CREATE SET r.since = $since, r.fresh = true,"
                # null (a user not yet back-filled by open) stays null until counted
                " b.followers = b.followers + 1"
                " WITH a, b, r, coalesce(r.fresh, false) AS created REMOVE r.fresh"
                " RETURN created, EXISTS { (a)-[:BLOCKS]-(b) } AS blocked",
                {"a": follower_id, "b": followee_id, "since": since_ms},
            )
            rows = await result.data()
            if not rows:
                return None
            if rows[0]["blocked"]:
                raise BlockedError(f"{follower_id} and {followee_id}: a block")  # rolls back
            return bool(rows[0]["created"])

        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(work)

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        rows = await self._write(
            "MATCH (:User {id: $a})-[r:FOLLOWS]->(b:User {id: $b})"
            " DELETE r SET b.followers = b.followers - 1 RETURN count(r) AS n",
            {"a": follower_id, "b": followee_id},
        )
        return bool(rows and rows[0]["n"])

    async def _edges(
        self,
        query: LiteralString,
        user_id: int,
        limit: int,
        after: tuple[int, int] | None,
        **params: Any,
    ) -> list[FollowEdge]:
        rows = await self._read(
            query,
            {
                "id": user_id,
                "limit": limit,
                "since": after[0] if after else None,
                "other": after[1] if after else None,
                **params,
            },
        )
        return [FollowEdge(row["id"], row["since"]) for row in rows]

    async def followers(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges(
            "MATCH (o:User)-[r:FOLLOWS]->(:User {id: $id})"
            " WHERE $since IS NULL OR r.since < $since OR (r.since = $since AND o.id < $other)"
            " RETURN o.id AS id, r.since AS since ORDER BY since DESC, id DESC LIMIT $limit",
            user_id,
            limit,
            after,
        )

    async def following(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges(
            "MATCH (:User {id: $id})-[r:FOLLOWS]->(o:User)"
            " WHERE $since IS NULL OR r.since < $since OR (r.since = $since AND o.id < $other)"
            " RETURN o.id AS id, r.since AS since ORDER BY since DESC, id DESC LIMIT $limit",
            user_id,
            limit,
            after,
        )

    async def following_ids(self, user_id: int) -> list[int]:
        rows = await self._read(
            "MATCH (:User {id: $id})-[:FOLLOWS]->(o:User) RETURN o.id AS id", {"id": user_id}
        )
        return [row["id"] for row in rows]

    async def followed_celebrities(self, user_id: int) -> list[int]:
        # Both ends are found by index; the edge check between two bound nodes
        # (Expand(Into)) walks the end with the smaller degree, never more, and only
        # the celebrities' ids come back.
        rows = await self._read(
            "MATCH (me:User {id: $id}) MATCH (c:User {celebrity: true})"
            " WHERE EXISTS { (me)-[:FOLLOWS]->(c) } RETURN c.id AS id",
            {"id": user_id},
        )
        return [row["id"] for row in rows]

    async def set_celebrity(self, user_id: int, celebrity: bool) -> bool:
        # Every fan-out job sets the flag; it changes rarely. A read answers the
        # common case without a write transaction.
        current = await self._read(
            "MATCH (u:User {id: $id}) RETURN coalesce(u.celebrity, false) AS celebrity",
            {"id": user_id},
        )
        if current and bool(current[0]["celebrity"]) == celebrity:
            return celebrity
        rows = await self._write(
            "MATCH (u:User {id: $id}) WITH u, coalesce(u.celebrity, false) AS before"
            " SET u.celebrity = $celebrity RETURN before",
            {"id": user_id, "celebrity": celebrity},
        )
        return bool(rows and rows[0]["before"])

    async def count_followers(self, ids: Sequence[int]) -> dict[int, int]:
        return await self._counts(
            "UNWIND $ids AS id MATCH (u:User {id: id})"
            " RETURN id, COUNT { (u)<-[:FOLLOWS]-() } AS n",
            ids,
        )

    async def count_following(self, ids: Sequence[int]) -> dict[int, int]:
        return await self._counts(
            "UNWIND $ids AS id MATCH (u:User {id: id})"
            " RETURN id, COUNT { (u)-[:FOLLOWS]->() } AS n",
            ids,
        )

    async def _counts(self, query: LiteralString, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        counts = dict.fromkeys(ids, 0)
        for row in await self._read(query, {"ids": list(set(ids))}):
            counts[row["id"]] = row["n"]
        return counts

    async def existing_follows(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        rows = await self._read(
            "UNWIND $pairs AS p MATCH (a:User {id: p[0]})-[:FOLLOWS]->(b:User {id: p[1]})"
            " RETURN a.id AS a, b.id AS b",
            {"pairs": [list(p) for p in set(pairs)]},
        )
        return {(row["a"], row["b"]) for row in rows}

    # --- blocks and mutes -----------------------------------------------------

    async def block(self, blocker_id: int, blocked_id: int, since_ms: int) -> BlockOutcome | None:
        # One statement, so one transaction: the block and the follows it ends.
        rows = await self._write(
            "MATCH (a:User {id: $a}), (b:User {id: $b})"
            " MERGE (a)-[r:BLOCKS]->(b) ON CREATE SET r.since = $since, r.fresh = true"
            " WITH a, b, r, coalesce(r.fresh, false) AS created REMOVE r.fresh"
            " WITH a, b, created OPTIONAL MATCH (a)-[f:FOLLOWS]-(b)"
            " WITH created, f, CASE WHEN f IS NULL THEN [] ELSE [endNode(f)] END AS followee,"
            " CASE WHEN f IS NULL THEN null ELSE [startNode(f).id, endNode(f).id] END AS pair"
            " DELETE f FOREACH (x IN followee | SET x.followers = x.followers - 1)"
            " RETURN created, collect(pair) AS removed",
            {"a": blocker_id, "b": blocked_id, "since": since_ms},
        )
        if not rows:
            return None
        removed = sorted({(pair[0], pair[1]) for pair in rows[0]["removed"]})
        return BlockOutcome(bool(rows[0]["created"]), tuple(removed))

    async def unblock(self, blocker_id: int, blocked_id: int) -> bool:
        rows = await self._write(
            "MATCH (:User {id: $a})-[r:BLOCKS]->(:User {id: $b}) DELETE r RETURN count(r) AS n",
            {"a": blocker_id, "b": blocked_id},
        )
        return bool(rows and rows[0]["n"])

    async def mute(
        self,
        muter_id: int,
        muted_id: int,
        since_ms: int,
        expires_at_ms: int | None,
        hide_notifications: bool,
    ) -> bool | None:
        # An active mute keeps its since (its place in the list); a new one, or one
        # made over an expired one, starts now. Setting expires_at to null removes it.
        rows = await self._write(
            "MATCH (a:User {id: $a}), (b:User {id: $b})"
            " MERGE (a)-[m:MUTES]->(b) ON CREATE SET m.since = $since, m.fresh = true"
            " WITH m, coalesce(m.fresh, false)"
            " OR (m.expires_at IS NOT NULL AND m.expires_at <= $since) AS created"
            " SET m.since = CASE WHEN created THEN $since ELSE m.since END,"
            " m.expires_at = $expires_at, m.hide_notifications = $hide_notifications"
            " REMOVE m.fresh RETURN created",
            {
                "a": muter_id,
                "b": muted_id,
                "since": since_ms,
                "expires_at": expires_at_ms,
                "hide_notifications": hide_notifications,
            },
        )
        return bool(rows[0]["created"]) if rows else None

    async def unmute(self, muter_id: int, muted_id: int, now_ms: int | None = None) -> bool:
        rows = await self._write(
            "MATCH (:User {id: $a})-[m:MUTES]->(:User {id: $b})"
            f" WITH m, {_ACTIVE} AS active DELETE m RETURN active",
            {"a": muter_id, "b": muted_id, "now": _now_ms() if now_ms is None else now_ms},
        )
        return bool(rows and rows[0]["active"])

    async def blocked(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges(
            "MATCH (:User {id: $id})-[r:BLOCKS]->(o:User)"
            " WHERE $since IS NULL OR r.since < $since OR (r.since = $since AND o.id < $other)"
            " RETURN o.id AS id, r.since AS since ORDER BY since DESC, id DESC LIMIT $limit",
            user_id,
            limit,
            after,
        )

    async def muted(
        self, user_id: int, limit: int, now_ms: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges(
            "MATCH (:User {id: $id})-[m:MUTES]->(o:User)"
            f" WHERE {_ACTIVE} AND ($since IS NULL OR m.since < $since"
            " OR (m.since = $since AND o.id < $other))"
            " RETURN o.id AS id, m.since AS since ORDER BY since DESC, id DESC LIMIT $limit",
            user_id,
            limit,
            after,
            now=now_ms,
        )

    async def existing_blocks(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        rows = await self._read(
            "UNWIND $pairs AS p MATCH (a:User {id: p[0]})-[:BLOCKS]->(b:User {id: p[1]})"
            " RETURN a.id AS a, b.id AS b",
            {"pairs": [list(p) for p in set(pairs)]},
        )
        return {(row["a"], row["b"]) for row in rows}

    async def existing_mutes(
        self, pairs: Sequence[tuple[int, int]], now_ms: int
    ) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        rows = await self._read(
            "UNWIND $pairs AS p MATCH (a:User {id: p[0]})-[m:MUTES]->(b:User {id: p[1]})"
            f" WHERE {_ACTIVE} RETURN a.id AS a, b.id AS b",
            {"pairs": [list(p) for p in set(pairs)], "now": now_ms},
        )
        return {(row["a"], row["b"]) for row in rows}

    async def hidden_among(
        self, viewer_id: int, user_ids: Sequence[int], now_ms: int, notifications: bool = False
    ) -> set[int]:
        if not user_ids:
            return set()
        rows = await self._read(
            HIDDEN_AMONG_CYPHER,
            {
                "viewer": viewer_id,
                "ids": list(set(user_ids)),
                "now": now_ms,
                "notifications": notifications,
            },
        )
        return {row["id"] for row in rows}

    async def hidden_ids(
        self, viewer_id: int, now_ms: int, notifications: bool = False
    ) -> set[int]:
        rows = await self._read(
            HIDDEN_IDS_CYPHER,
            {"viewer": viewer_id, "now": now_ms, "notifications": notifications},
        )
        return {row["id"] for row in rows}

    # --- discovery --------------------------------------------------------------

    async def suggestions(
        self,
        viewer_id: int,
        limit: int,
        now_ms: int,
        sample: int = SUGGESTION_SAMPLE,
        per_followee: int = SUGGESTION_PER_FOLLOWEE,
    ) -> list[tuple[int, int]]:
        if limit <= 0 or sample <= 0 or per_followee <= 0:
            return []
        rows = await self._read(
            SUGGESTIONS_CYPHER,
            {
                "viewer": viewer_id,
                "limit": limit,
                "now": now_ms,
                "sample": sample,
                "per_followee": per_followee,
            },
        )
        return [(row["id"], row["mutual"]) for row in rows]

    async def popular(self, viewer_id: int, limit: int, now_ms: int) -> list[int]:
        if limit <= 0:
            return []

        async def work(tx: AsyncManagedTransaction) -> list[int]:
            # The excluded first, then just enough of the top that ``limit`` remain:
            # filtering in the query instead makes the stand-in test every user (its
            # WHERE runs before its ORDER BY), a minute for a viewer of 2,000 follows.
            result = await tx.run(POPULAR_EXCLUDED_CYPHER, {"viewer": viewer_id, "now": now_ms})
            record = await result.single()
            excluded = {viewer_id, *(record["ids"] if record else ())}
            result = await tx.run(POPULAR_TOP_CYPHER, {"window": limit + len(excluded)})
            top = [row["id"] async for row in result]
            return [user for user in top if user not in excluded][:limit]

        async with self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    async def search_users(self, query: str, limit: int, offset: int = 0) -> list[UserRecord]:
        prefix = handle_prefix(query)
        words = name_words(query)
        if limit <= 0 or (prefix is None and not words):
            return []
        offset = max(offset, 0)

        async def work(tx: AsyncManagedTransaction) -> list[UserRecord]:
            # One read transaction; the names are asked only if the handles leave room.
            found: list[UserRecord] = []
            handles = 0
            if prefix is not None:
                result = await tx.run(
                    SEARCH_HANDLES_CYPHER, {"prefix": prefix, "offset": offset, "limit": limit}
                )
                record = await result.single(strict=True)
                handles = record["total"]
                found = [_user(row) for row in record["page"]]
            if len(found) < limit and words:
                result = await tx.run(
                    SEARCH_NAMES_CYPHER,
                    {
                        "prefix": prefix,
                        "words": words,
                        "longest": max(words, key=len),
                        "offset": max(offset - handles, 0),
                        "limit": limit - len(found),
                    },
                )
                found += [_user(row) for row in await result.data()]
            return found

        async with self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    async def audience(
        self,
        reader_ids: Sequence[int],
        now_ms: int,
        authors: Sequence[int],
        must_follow: int | None = None,
    ) -> set[int]:
        if not reader_ids:
            return set()
        rows = await self._read(
            AUDIENCE_CYPHER,
            {
                "readers": list(set(reader_ids)),
                "authors": list(set(authors)),
                "now": now_ms,
                "must_follow": must_follow,
            },
        )
        return {row["id"] for row in rows}
