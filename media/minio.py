"""The production object store: MinIO (or any S3 store) through the ``minio`` SDK.

The SDK is synchronous: every call runs in a worker thread, never on the
event loop. Clients upload with presigned PUT URLs straight to the store.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from minio import Minio
from minio.commonconfig import CopySource
from minio.error import S3Error
from urllib3.exceptions import HTTPError as Urllib3Error

from media.port import ObjectInfo, UploadTarget

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (Urllib3Error,)
CHUNK = 256 * 1024


class MinioObjectStore:
    def __init__(self, client: Minio, bucket: str, presigner: Minio | None = None) -> None:
        self.client = client
        self.bucket = bucket
        # Upload URLs are signed for the host clients use, which may differ from the
        # one this service reaches the store at (MINIO_PUBLIC_ENDPOINT).
        self.presigner = presigner or client

    async def ensure_bucket(self) -> None:
        def work() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:  # created concurrently by another instance
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        await asyncio.to_thread(work)

    async def open(self) -> None:
        await self.ensure_bucket()

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.bucket_exists, self.bucket)

    async def close(self) -> None:
        """The SDK's connection pool needs no closing."""

    async def upload_target(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTarget:
        # Signed "now", valid until expires_at to the second (S3 counts whole seconds
        # and wants at least one).
        signed_at = datetime.now(UTC).replace(microsecond=0)
        lifetime = timedelta(seconds=max(1, int((expires_at - signed_at).total_seconds())))
        url = await asyncio.to_thread(
            self.presigner.get_presigned_url, "PUT", self.bucket, key, lifetime, None, signed_at
        )
        return UploadTarget(url, {"Content-Type": content_type}, expires_at)

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            found = await asyncio.to_thread(self.client.stat_object, self.bucket, key)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                return None
            raise
        return ObjectInfo(int(found.size or 0))

    async def read(
        self, key: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        if length == 0:
            return  # the SDK reads "length 0" as "to the end"
        try:
            response = await asyncio.to_thread(
                self.client.get_object, self.bucket, key, start, length or 0
            )
        except S3Error as exc:
            if exc.code == "InvalidRange":  # start at or past the end: no bytes, as a file
                return
            raise
        try:
            while True:
                chunk = await asyncio.to_thread(response.read, CHUNK)
                if not chunk:
                    break
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def put(self, key: str, data: AsyncIterator[bytes], size: int, content_type: str) -> None:
        body = b"".join([chunk async for chunk in data])
        await asyncio.to_thread(
            self.client.put_object, self.bucket, key, io.BytesIO(body), len(body), content_type
        )

    async def copy(self, source: str, target: str) -> None:
        await asyncio.to_thread(
            self.client.copy_object, self.bucket, target, CopySource(self.bucket, source)
        )

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, key)
