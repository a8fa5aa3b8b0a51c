"""Production attachments: media records and short links in MongoDB.

Collections: ``media {_id: int64, owner_id, kind, content_type, size_bytes,
created_at, status, key, width, height, attached}`` and
``links {_id: code, url}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING, AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError

from core.models import MediaRecord
from docstore.mongo import MAJORITY, Doc, _date, _ms


def _media(doc: dict[str, Any]) -> MediaRecord:
    return MediaRecord(
        id=int(doc["_id"]),
        owner_id=int(doc["owner_id"]),
        kind=doc["kind"],
        content_type=doc["content_type"],
        size_bytes=int(doc["size_bytes"]),
        created_at_ms=_ms(doc["created_at"]),
        status=doc["status"],
        key=doc.get("key"),
        width=doc.get("width"),
        height=doc.get("height"),
        attached=bool(doc.get("attached", False)),
    )


class MongoAttachmentStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        db = client.get_database(database, write_concern=MAJORITY)
        self.media = db["media"]
        self.links = db["links"]

    async def open(self) -> None:
        await self.media.database.command("ping")

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.media.database.command("ping")

    async def create_media(self, media: MediaRecord) -> None:
        await self.media.insert_one(
            {
                "_id": Int64(media.id),
                "owner_id": Int64(media.owner_id),
                "kind": media.kind,
                "content_type": media.content_type,
                "size_bytes": Int64(media.size_bytes),
                "created_at": _date(media.created_at_ms),
                "status": media.status,
                "key": media.key,
                "width": media.width,
                "height": media.height,
                "attached": media.attached,
            }
        )

    async def get_media(self, ids: Sequence[int]) -> dict[int, MediaRecord]:
        if not ids:
            return {}
        cursor = self.media.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _media(doc) async for doc in cursor}

    async def complete_media(
        self, media_id: int, key: str, width: int | None, height: int | None
    ) -> MediaRecord | None:
        await self.media.update_one(
            {"_id": Int64(media_id), "status": "PENDING"},
            {"$set": {"status": "READY", "key": key, "width": width, "height": height}},
        )
        doc = await self.media.find_one({"_id": Int64(media_id)})
        return _media(doc) if doc else None

    async def attach_media(self, ids: Sequence[int]) -> None:
        if ids:
            await self.media.update_many(
                {"_id": {"$in": [Int64(i) for i in set(ids)]}}, {"$set": {"attached": True}}
            )

    async def stale_media(self, created_before_ms: int, limit: int) -> list[MediaRecord]:
        if limit <= 0:
            return []
        cursor = self.media.find(
            {"attached": False, "created_at": {"$lt": _date(created_before_ms)}}
        )
        return [_media(doc) async for doc in cursor.sort("created_at", ASCENDING).limit(limit)]

    async def delete_media(self, ids: Sequence[int]) -> None:
        if ids:
            await self.media.delete_many({"_id": {"$in": [Int64(i) for i in set(ids)]}})

    async def put_links(self, links: Sequence[tuple[str, str]]) -> None:
        if not links:
            return
        first: dict[str, str] = {}
        for code, url in links:  # an unordered bulk write may apply a batch in any order
            first.setdefault(code, url)
        writes = [
            UpdateOne({"_id": code}, {"$setOnInsert": {"url": url}}, upsert=True)
            for code, url in first.items()
        ]
        try:
            await self.links.bulk_write(writes, ordered=False)
        except BulkWriteError as exc:  # a concurrent upsert of the same code: it kept its URL
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    async def get_links(self, codes: Sequence[str]) -> dict[str, str]:
        if not codes:
            return {}
        cursor = self.links.find({"_id": {"$in": list(set(codes))}})
        return {doc["_id"]: doc["url"] async for doc in cursor}
