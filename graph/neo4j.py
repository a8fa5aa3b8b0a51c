"""The production social graph: Neo4j through the official async driver.

Data model (operators and data tools rely on it)::

    (:User {id, handle, handle_lower, display_name, bio, created_at, password_hash, celebrity})
        -[:FOLLOWS {since}]->(:User)

``id`` is the snowflake id (int64), ``created_at`` and ``since`` are Unix
milliseconds (int64); ``celebrity`` (absent means false) is set by the fan-out
workers for authors whose tweets are merged at read time instead of pushed. Unique
constraints on ``User.id`` and ``User.handle_lower`` and an index on
``User.celebrity`` are created at start-up (idempotent). Writes go through
``execute_write`` and reads through ``execute_read``, which retry transient
errors (deadlocks, leader switches). Lists are paginated in the database by
the ``(since, id)`` keyset; counts use ``COUNT {}`` subqueries, which Neo4j
answers from its relationship degree store without scanning.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, LiteralString

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from core.models import Credentials, FollowEdge, NewUser, UserRecord
from graph.port import HandleTakenError

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
)

_USER_FIELDS: LiteralString = (
    "u.id AS id, u.handle AS handle, u.display_name AS display_name, u.bio AS bio,"
    " u.created_at AS created_at"
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
                " password_hash: $password_hash})",
                {
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
        rows = await self._write(
            "MATCH (u:User {id: $id})"
            " SET u.display_name = coalesce($display_name, u.display_name),"
            " u.bio = coalesce($bio, u.bio)"
            f" RETURN {_USER_FIELDS}",
            {"id": user_id, "display_name": display_name, "bio": bio},
        )
        return _user(rows[0]) if rows else None

    async def follow(self, follower_id: int, followee_id: int, since_ms: int) -> bool | None:
        # MERGE locks both end nodes, so concurrent follows never duplicate the edge.
        rows = await self._write(
            "MATCH (a:User {id: $a}), (b:User {id: $b})"
            " MERGE (a)-[r:FOLLOWS]->(b) ON CREATE SET r.since = $since, r.fresh = true"
            " WITH r, coalesce(r.fresh, false) AS created REMOVE r.fresh RETURN created",
            {"a": follower_id, "b": followee_id, "since": since_ms},
        )
        return bool(rows[0]["created"]) if rows else None

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        rows = await self._write(
            "MATCH (:User {id: $a})-[r:FOLLOWS]->(:User {id: $b}) DELETE r RETURN count(r) AS n",
            {"a": follower_id, "b": followee_id},
        )
        return bool(rows and rows[0]["n"])

    async def _edges(
        self, query: LiteralString, user_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        rows = await self._read(
            query,
            {
                "id": user_id,
                "limit": limit,
                "since": after[0] if after else None,
                "other": after[1] if after else None,
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
