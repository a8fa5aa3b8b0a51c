"""The persisted-query store port: documents kept by their SHA-256, bounded in size.

A store may forget a document (it is a cache: the client sends it again), but
never answers a document under another hash. Adapters: ``memory.py`` (one
process, least recently used first out) and ``redis.py`` (shared by every
instance, each document expiring when unused). Both pass
tests/contract/test_query_store_contract.py.
"""

from __future__ import annotations

from typing import Protocol


class QueryStore(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...

    async def close(self) -> None: ...
