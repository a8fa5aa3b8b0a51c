"""The app store port: every adapter keeps apps and finds them by their key's hash alike."""

from __future__ import annotations

import pytest

from core.models import AppRecord
from docstore.apps import AppStore


def app(app_id: int, owner_id: int = 1, key_hash: str | None = None) -> AppRecord:
    return AppRecord(
        id=app_id,
        owner_id=owner_id,
        name=f"app {app_id}",
        key_hash=key_hash or f"hash-{app_id}",
        created_at_ms=1_700_000_000_000 + app_id,
        quota_per_hour=1000,
    )


async def test_an_app_is_found_by_its_key_hash(app_store: AppStore) -> None:
    made = app(10)
    await app_store.create_app(made)
    assert await app_store.app_by_key_hash("hash-10") == made
    assert await app_store.app_by_key_hash("hash-11") is None
    assert await app_store.get_apps([10, 99]) == {10: made}


async def test_a_key_hash_belongs_to_one_app(app_store: AppStore) -> None:
    await app_store.create_app(app(10, key_hash="same"))
    with pytest.raises(Exception):  # noqa: B017, PT011 - each driver has its own error
        await app_store.create_app(app(11, key_hash="same"))
    assert (await app_store.get_apps([11])) == {}


async def test_an_owner_lists_their_live_apps_newest_first(app_store: AppStore) -> None:
    for app_id, owner in ((10, 1), (11, 2), (12, 1)):
        await app_store.create_app(app(app_id, owner))
    assert [a.id for a in await app_store.apps_of(1)] == [12, 10]
    assert await app_store.revoke_app(12, 1, 1_800_000_000_000)
    assert [a.id for a in await app_store.apps_of(1)] == [10]


async def test_revoking_is_the_owners_and_happens_once(app_store: AppStore) -> None:
    await app_store.create_app(app(10, owner_id=1))
    assert not await app_store.revoke_app(10, 2, 1_800_000_000_000)  # not theirs
    assert await app_store.revoke_app(10, 1, 1_800_000_000_000)
    assert not await app_store.revoke_app(10, 1, 1_800_000_000_001)  # already
    assert not await app_store.revoke_app(99, 1, 1_800_000_000_000)  # missing
    revoked = await app_store.app_by_key_hash("hash-10")
    assert revoked is not None
    assert revoked.revoked_at_ms == 1_800_000_000_000
