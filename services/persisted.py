"""Persisted queries: Apollo's automatic persisted queries (APQ) and registered operations.

The protocol (``extensions.persistedQuery = {version: 1, sha256Hash}``):

- a hash alone runs the document stored under it, or answers
  ``PersistedQueryNotFound`` (code PERSISTED_QUERY_NOT_FOUND), and the client
  sends the hash again with the document, which is then stored;
- a document with a hash that is not its SHA-256 is refused
  (PERSISTED_QUERY_HASH_MISMATCH) and stored under nothing;
- a version other than 1 is PERSISTED_QUERY_NOT_SUPPORTED.

With a manifest (a mapping of SHA-256 hash to document, e.g. built from a
client's operations at its build time), only its documents run: a hash it does
not hold is PERSISTED_QUERY_NOT_FOUND, any other document OPERATION_NOT_REGISTERED,
and nothing is stored. The store (persisted/) is a cache: a store that is down
forgets, and the client sends the document again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from core.errors import ApiError
from persisted.port import QueryStore

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(ApiError):
    """A persisted-query refusal, with its Apollo code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    """Resolves a request's document from its query text and persisted-query extension."""

    def __init__(
        self,
        store: QueryStore | None,
        manifest: Mapping[str, str] | None = None,
        max_length: int = 32_768,
    ) -> None:
        self.store = store
        self.manifest = dict(manifest) if manifest is not None else None
        self.max_length = max_length  # longer documents run but are not stored

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run (None: the request has none), or PersistedQueryError."""
        persisted = extensions.get("persistedQuery") if extensions else None
        if persisted is None and self.manifest is None:
            return query
        if persisted is None:
            if (
                self.manifest is not None
                and query is not None
                and sha256(query) not in self.manifest
            ):
                raise PersistedQueryError(
                    "OPERATION_NOT_REGISTERED",
                    "This server runs registered operations only; this document is not one.",
                )
            return query
        version = persisted.get("version") if isinstance(persisted, Mapping) else None
        if type(version) is not int or version != 1:  # JSON's true is not version 1
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_SUPPORTED", "Only version 1 of persisted queries is supported."
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise PersistedQueryError(
                "BAD_REQUEST", "persistedQuery.sha256Hash must be 64 lowercase hex digits."
            )
        if query is None:
            found = await self._find(digest)
            if found is None:
                raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return found
        if sha256(query) != digest:
            raise PersistedQueryError(
                "PERSISTED_QUERY_HASH_MISMATCH", "provided sha does not match query"
            )
        if self.manifest is not None:
            if digest not in self.manifest:
                raise PersistedQueryError(
                    "OPERATION_NOT_REGISTERED",
                    "This server runs registered operations only; this document is not one.",
                )
        elif self.store is not None and len(query) <= self.max_length:
            await self.store.put(digest, query)
        return query

    async def _find(self, digest: str) -> str | None:
        if self.manifest is not None:
            return self.manifest.get(digest)
        if self.store is None:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
        return await self.store.get(digest)
