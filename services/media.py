"""Media uploads: declare, upload straight to the store, verify, attach, sweep.

1. ``create_upload`` checks the declared type and size against the limits and
   returns a short-lived URL to PUT the bytes to (a presigned S3 URL, or the
   app's own signed upload route on the embedded default).
2. ``complete`` checks what actually arrived: the size, the real type from the
   bytes, an image's dimensions. A mismatch removes the object and is a
   UserError; otherwise the bytes move to a content-addressed key and the
   media is READY.
3. Tweets may then attach READY media of their author; the sweep removes
   media never attached within CHIRP_MEDIA_SWEEP_AFTER.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.errors import UserError
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import MediaRecord
from docstore.attachments import AttachmentStore
from media.inspect import EXTENSIONS, HEAD_BYTES, KINDS, inspect
from media.port import ObjectStore, UploadTarget

log = logging.getLogger("chirp.media")

MEDIA_NAME = re.compile(r"[0-9a-f]{64}\.(jpg|png|webp|gif|mp4)")
# ASCII digits only: str.isdigit() also accepts "²" or "١", which int() refuses or reads
_DECIMAL = re.compile(r"[0-9]{1,19}")
MAX_INT64 = 2**63 - 1
MAX_PHOTOS = 4


@dataclass(frozen=True)
class MediaLimits:
    photo_bytes: int = 5 * 1024 * 1024
    gif_bytes: int = 15 * 1024 * 1024
    video_bytes: int = 512 * 1024 * 1024
    upload_ttl_seconds: int = 15 * 60
    sweep_after_seconds: int = 24 * 3600

    def max_bytes(self, kind: str) -> int:
        return {"PHOTO": self.photo_bytes, "GIF": self.gif_bytes, "VIDEO": self.video_bytes}[kind]


def upload_key(media_id: int) -> str:
    return f"uploads/{media_id}"


class UploadRefused(Exception):
    """The local upload route refuses a PUT: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class MediaService:
    def __init__(
        self,
        objects: ObjectStore,
        records: AttachmentStore,
        ids: SnowflakeGenerator,
        limits: MediaLimits,
        media_base_url: str,
    ) -> None:
        self.objects = objects
        self.records = records
        self.ids = ids
        self.limits = limits
        self.media_base_url = media_base_url.rstrip("/")

    async def get(self, media_ids: Sequence[int]) -> dict[int, MediaRecord]:
        """Media records by id, pending uploads included; unknown ids are absent."""
        return await self.records.get_media(media_ids)

    def url(self, media: MediaRecord) -> str:
        return f"{self.media_base_url}/{media.key}" if media.key else ""

    async def create_upload(
        self, viewer_id: int, content_type: str, size_bytes: int
    ) -> tuple[MediaRecord, UploadTarget]:
        declared = content_type.split(";")[0].strip().lower()
        kind = KINDS.get(declared)
        if kind is None:
            raise UserError(
                "UNSUPPORTED_MEDIA_TYPE",
                "Upload a JPEG, PNG, WebP or GIF image, or an MP4 video.",
                "contentType",
            )
        limit = self.limits.max_bytes(kind)
        if size_bytes <= 0:
            raise UserError(
                "INVALID_SIZE", "sizeBytes must be the file's size in bytes.", "sizeBytes"
            )
        if size_bytes > limit:
            raise UserError(
                "TOO_LARGE",
                f"A {kind.lower()} is at most {limit} bytes; this one is {size_bytes}.",
                "sizeBytes",
            )
        media_id = self.ids.next_id()
        record = MediaRecord(
            id=media_id,
            owner_id=viewer_id,
            kind=kind,
            content_type=declared,
            size_bytes=size_bytes,
            created_at_ms=id_timestamp_ms(media_id),
        )
        await self.records.create_media(record)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(
            seconds=self.limits.upload_ttl_seconds
        )
        target = await self.objects.upload_target(upload_key(media_id), declared, expires_at)
        return record, target

    async def _own(self, viewer_id: int, media_id: int, field: str) -> MediaRecord:
        record = (await self.records.get_media([media_id])).get(media_id)
        if record is None:
            raise UserError("NOT_FOUND", "No such media.", field)
        if record.owner_id != viewer_id:
            raise UserError("FORBIDDEN", "This media belongs to someone else.", field)
        return record

    async def complete(self, viewer_id: int, media_id: int) -> MediaRecord:
        record = await self._own(viewer_id, media_id, "mediaId")
        if record.status == "READY":
            return record
        key = upload_key(media_id)
        arrived = await self.objects.stat(key)
        if arrived is None:
            raise UserError(
                "MEDIA_NOT_UPLOADED", "Nothing was uploaded yet: PUT the bytes first.", "mediaId"
            )
        if arrived.size != record.size_bytes:
            await self.objects.delete(key)
            raise UserError(
                "SIZE_MISMATCH",
                f"{arrived.size} bytes arrived, {record.size_bytes} were declared: upload again.",
                "mediaId",
            )
        head_size = (
            record.size_bytes if record.kind != "VIDEO" else min(HEAD_BYTES, record.size_bytes)
        )
        head = await _collect(self.objects.read(key, 0, head_size))
        found = await asyncio.to_thread(inspect, head)  # decodes the image: off the loop
        if found is None or found.content_type != record.content_type:
            await self.objects.delete(key)
            what = found.content_type if found else "not an accepted image or video"
            raise UserError(
                "TYPE_MISMATCH",
                f"The file is {what}, not the declared {record.content_type}.",
                "mediaId",
            )
        digest = hashlib.sha256()
        async for chunk in self.objects.read(key):
            digest.update(chunk)
        final_key = f"media/{digest.hexdigest()}{EXTENSIONS[record.content_type]}"
        if await self.objects.stat(final_key) is None:  # the same bytes may exist already
            await self.objects.copy(key, final_key)
        await self.objects.delete(key)
        done = await self.records.complete_media(media_id, final_key, found.width, found.height)
        if done is None:
            raise UserError("NOT_FOUND", "No such media.", "mediaId")
        return done

    async def for_tweet(self, viewer_id: int, media_ids: Sequence[int]) -> list[MediaRecord]:
        """The media a new tweet may carry, checked: own, READY, a valid combination."""
        unique = list(dict.fromkeys(media_ids))
        if not unique:
            return []
        found = await self.records.get_media(unique)
        chosen: list[MediaRecord] = []
        for media_id in unique:
            record = found.get(media_id)
            if record is None:
                raise UserError("NOT_FOUND", "No such media.", "mediaIds")
            if record.owner_id != viewer_id:
                raise UserError("FORBIDDEN", "You can attach only media you uploaded.", "mediaIds")
            if record.status != "READY":
                raise UserError(
                    "MEDIA_NOT_READY", "Complete the upload before attaching it.", "mediaIds"
                )
            chosen.append(record)
        kinds = {m.kind for m in chosen}
        photos_only = kinds == {"PHOTO"} and len(chosen) <= MAX_PHOTOS
        if not (photos_only or len(chosen) == 1):
            raise UserError(
                "TOO_MANY_MEDIA",
                f"A tweet carries up to {MAX_PHOTOS} photos, or one video, or one GIF.",
                "mediaIds",
            )
        return chosen

    async def receive_upload(
        self,
        name: str,
        expires: str,
        signature: str,
        content_type: str | None,
        length: int | None,
        body: AsyncIterator[bytes],
        check_signature: Callable[[str, int, str, str], bool],
    ) -> None:
        """The embedded store's upload route: verify the signed URL, store the bytes whole."""
        if not _DECIMAL.fullmatch(name) or int(name) > MAX_INT64:
            raise UploadRefused(404, "No such upload.")
        if not _DECIMAL.fullmatch(expires):
            raise UploadRefused(403, "This upload URL is not valid.")
        media_id = int(name)
        record = (await self.records.get_media([media_id])).get(media_id)
        key = upload_key(media_id)
        valid = record is not None and check_signature(
            key, int(expires), record.content_type, signature
        )
        if record is None or not valid:
            raise UploadRefused(403, "This upload URL is not valid.")
        if int(expires) < datetime.now(UTC).timestamp():
            raise UploadRefused(403, "This upload URL has expired: ask for a new one.")
        if record.status != "PENDING":
            raise UploadRefused(409, "This upload is complete: its bytes cannot change.")
        if (content_type or "").split(";")[0].strip().lower() != record.content_type:
            raise UploadRefused(400, f"Send the header Content-Type: {record.content_type}.")
        if length is not None and length > record.size_bytes:
            raise UploadRefused(413, f"At most {record.size_bytes} bytes were declared.")

        async def bounded() -> AsyncIterator[bytes]:
            received = 0
            async for chunk in body:
                received += len(chunk)
                if received > record.size_bytes:
                    raise UploadRefused(413, f"At most {record.size_bytes} bytes were declared.")
                yield chunk

        await self.objects.put(key, bounded(), record.size_bytes, record.content_type)

    async def sweep(self, now_ms: int, limit: int = 500) -> int:
        """Remove media never attached to a tweet within the sweep delay."""
        stale = await self.records.stale_media(
            now_ms - self.limits.sweep_after_seconds * 1000, limit
        )
        for media in stale:
            await self.objects.delete(upload_key(media.id))
            # a READY object may be shared by identical uploads: keep the bytes, the
            # record goes; unreferenced bytes cost storage, never correctness
        await self.records.delete_media([m.id for m in stale])
        if stale:
            log.info("media sweep: removed %d upload(s) never attached", len(stale))
        return len(stale)


async def _collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])
