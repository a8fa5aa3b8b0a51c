"""Persisted queries in process: an LRU bounded by count and by total characters."""

from __future__ import annotations

from collections import OrderedDict


class MemoryQueryStore:
    def __init__(self, max_entries: int = 5000, max_chars: int = 20_000_000) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self.chars = 0
        self.entries: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        found = self.entries.get(sha256)
        if found is not None:
            self.entries.move_to_end(sha256)
        return found

    async def put(self, sha256: str, query: str) -> None:
        old = self.entries.pop(sha256, None)
        if old is not None:
            self.chars -= len(old)
        self.entries[sha256] = query
        self.chars += len(query)
        while self.entries and (
            len(self.entries) > self.max_entries or self.chars > self.max_chars
        ):
            _, dropped = self.entries.popitem(last=False)
            self.chars -= len(dropped)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self.entries.clear()
        self.chars = 0
