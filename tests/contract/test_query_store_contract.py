"""The persisted-query store port: documents by their hash, alike in every adapter."""

from __future__ import annotations

from persisted.port import QueryStore

DOC = "{ me { handle } }"


async def test_a_document_is_found_under_its_hash(query_store: QueryStore) -> None:
    assert await query_store.get("a" * 64) is None
    await query_store.put("a" * 64, DOC)
    assert await query_store.get("a" * 64) == DOC
    assert await query_store.get("b" * 64) is None


async def test_putting_again_keeps_one_document(query_store: QueryStore) -> None:
    await query_store.put("a" * 64, DOC)
    await query_store.put("a" * 64, DOC)
    assert await query_store.get("a" * 64) == DOC


async def test_unicode_documents_round_trip(query_store: QueryStore) -> None:
    doc = '{ search(query: "café ☕ 👩‍💻") { id } }'
    await query_store.put("c" * 64, doc)
    assert await query_store.get("c" * 64) == doc
