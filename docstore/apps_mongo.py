"""Production apps: the ``apps`` collection in MongoDB.

``apps {_id: int64, owner_id, name, key_hash (unique), created_at,
quota_per_hour, revoked_at (epoch ms, null while live)}``; indexes are created
when the store opens.
"""

from __future__ import annotations

from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING, AsyncMongoClient, IndexModel

from core.models import AppRecord
from docstore.mongo import MAJORITY, Doc, _date, _ms

INDEXES = [
    IndexModel([("key_hash", ASCENDING)], name="key_hash", unique=True),
    # owner alone: an owner holds at most 25 apps, sorted after the read
    IndexModel([("owner_id", ASCENDING)], name="owner"),
]


def _app(doc: dict[str, Any]) -> AppRecord:
    revoked = doc.get("revoked_at")
    return AppRecord(
        id=int(doc["_id"]),
        owner_id=int(doc["owner_id"]),
        name=doc["name"],
        key_hash=doc["key_hash"],
        created_at_ms=_ms(doc["created_at"]),
        quota_per_hour=int(doc["quota_per_hour"]),
        revoked_at_ms=int(revoked) if revoked is not None else None,
    )


class MongoAppStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        self.apps = client.get_database(database, write_concern=MAJORITY)["apps"]

    async def open(self) -> None:
        await self.apps.create_indexes(INDEXES)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.apps.database.command("ping")

    async def create_app(self, app: AppRecord) -> None:
        await self.apps.insert_one(
            {
                "_id": Int64(app.id),
                "owner_id": Int64(app.owner_id),
                "name": app.name,
                "key_hash": app.key_hash,
                "created_at": _date(app.created_at_ms),
                "quota_per_hour": Int64(app.quota_per_hour),
                "revoked_at": None,
            }
        )

    async def app_by_key_hash(self, key_hash: str) -> AppRecord | None:
        doc = await self.apps.find_one({"key_hash": key_hash})
        return _app(doc) if doc else None

    async def get_apps(self, ids: list[int]) -> dict[int, AppRecord]:
        if not ids:
            return {}
        cursor = self.apps.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _app(doc) async for doc in cursor}

    async def apps_of(self, owner_id: int) -> list[AppRecord]:
        cursor = self.apps.find({"owner_id": Int64(owner_id), "revoked_at": None})
        return sorted([_app(doc) async for doc in cursor], key=lambda a: a.id, reverse=True)

    async def revoke_app(self, app_id: int, owner_id: int, at_ms: int) -> bool:
        done = await self.apps.update_one(
            {"_id": Int64(app_id), "owner_id": Int64(owner_id), "revoked_at": None},
            {"$set": {"revoked_at": Int64(at_ms)}},
        )
        return done.modified_count == 1
