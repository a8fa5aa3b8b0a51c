"""The AttachmentStore contract (docstore/attachments.py): every adapter must pass these.

Adapters: SQLite (embedded) and MongoDB (nx-27017 or the server of
CHIRP_TEST_MONGODB_URI). Media ids are real 64-bit snowflakes.
"""

from __future__ import annotations

import asyncio
import dataclasses

from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import MediaRecord
from docstore.attachments import AttachmentStore

IDS = SnowflakeGenerator(worker_id=21)
ALICE, BOB = 101, 202
# A fixed time in ms; records are created around it, whole seconds apart: nx-27017 (the
# MongoDB stand-in) compares dates to the second only. Real MongoDB keeps milliseconds.
T0 = 1_760_000_000_000
S = 1_000


def media(
    owner: int = ALICE, created_at_ms: int | None = None, kind: str = "PHOTO", **fields: object
) -> MediaRecord:
    media_id = IDS.next_id()
    fields.setdefault("size_bytes", 123_456)
    return MediaRecord(
        id=media_id,
        owner_id=owner,
        kind=kind,
        content_type={"PHOTO": "image/png", "GIF": "image/gif", "VIDEO": "video/mp4"}[kind],
        created_at_ms=id_timestamp_ms(media_id) if created_at_ms is None else created_at_ms,
        **fields,  # type: ignore[arg-type]
    )


async def create(store: AttachmentStore, *records: MediaRecord) -> list[MediaRecord]:
    for record in records:
        await store.create_media(record)
    return list(records)


async def test_ping_answers_when_the_store_is_up(attachment_store: AttachmentStore) -> None:
    await attachment_store.ping()


# --- create / get ---------------------------------------------------------------------


async def test_created_media_reads_back_pending_with_every_field(
    attachment_store: AttachmentStore,
) -> None:
    photo, video = await create(
        attachment_store, media(), media(owner=BOB, kind="VIDEO", size_bytes=500_000_000)
    )
    found = await attachment_store.get_media([photo.id, video.id])
    assert found == {photo.id: photo, video.id: video}
    assert found[photo.id].status == "PENDING"
    assert (found[photo.id].key, found[photo.id].width, found[photo.id].attached) == (
        None,
        None,
        False,
    )
    assert found[video.id].size_bytes == 500_000_000


async def test_get_media_leaves_out_unknown_ids(attachment_store: AttachmentStore) -> None:
    (known,) = await create(attachment_store, media())
    assert await attachment_store.get_media([]) == {}
    assert await attachment_store.get_media([IDS.next_id()]) == {}
    assert await attachment_store.get_media([known.id, IDS.next_id(), known.id]) == {
        known.id: known
    }


# --- complete ---------------------------------------------------------------------------


async def test_complete_makes_pending_media_ready_at_its_key(
    attachment_store: AttachmentStore,
) -> None:
    photo, video = await create(attachment_store, media(), media(kind="VIDEO"))
    done = await attachment_store.complete_media(photo.id, "media/" + "a" * 64 + ".png", 640, 480)
    expected = dataclasses.replace(
        photo, status="READY", key="media/" + "a" * 64 + ".png", width=640, height=480
    )
    assert done == expected
    assert (await attachment_store.get_media([photo.id]))[photo.id] == expected
    clip = await attachment_store.complete_media(video.id, "media/" + "b" * 64 + ".mp4", None, None)
    assert clip is not None
    assert (clip.status, clip.width, clip.height) == ("READY", None, None)


async def test_only_pending_media_is_completed(attachment_store: AttachmentStore) -> None:
    (photo,) = await create(attachment_store, media())
    first = await attachment_store.complete_media(photo.id, "media/first.png", 10, 20)
    again = await attachment_store.complete_media(photo.id, "media/second.png", 30, 40)
    assert again == first  # READY stays as it was completed the first time
    assert again is not None
    assert (again.key, again.width, again.height) == ("media/first.png", 10, 20)
    assert await attachment_store.complete_media(IDS.next_id(), "media/x.png", 1, 1) is None


# --- attach / stale / delete ------------------------------------------------------------


async def test_attach_marks_media_used_by_a_tweet(attachment_store: AttachmentStore) -> None:
    one, two, three = await create(attachment_store, media(), media(), media())
    await attachment_store.attach_media([])
    await attachment_store.attach_media([one.id, three.id, IDS.next_id()])  # unknown: harmless
    found = await attachment_store.get_media([one.id, two.id, three.id])
    assert [found[m.id].attached for m in (one, two, three)] == [True, False, True]
    await attachment_store.attach_media([one.id])  # again: still attached
    assert (await attachment_store.get_media([one.id]))[one.id].attached


async def test_stale_media_is_never_attached_created_before_oldest_first(
    attachment_store: AttachmentStore,
) -> None:
    newest, oldest, attached, middle, ready, at_cutoff, later = await create(
        attachment_store,
        media(created_at_ms=T0 - 1_000),
        media(created_at_ms=T0 - 9_000),
        media(created_at_ms=T0 - 8_000),
        media(created_at_ms=T0 - 5_000),
        media(created_at_ms=T0 - 3_000, owner=BOB),
        media(created_at_ms=T0),
        media(created_at_ms=T0 + 5_000),
    )
    await attachment_store.attach_media([attached.id])
    await attachment_store.complete_media(ready.id, "media/r.png", 1, 1)
    stale = await attachment_store.stale_media(T0, 100)
    assert [m.id for m in stale] == [oldest.id, middle.id, ready.id, newest.id]
    assert stale[2].status == "READY"  # completed but never attached: stale too
    assert at_cutoff.id not in [m.id for m in stale]  # strictly before
    assert later.id not in [m.id for m in stale]


async def test_stale_media_honours_the_limit(attachment_store: AttachmentStore) -> None:
    records = await create(attachment_store, *(media(created_at_ms=T0 - S * i) for i in range(5)))
    oldest_first = [m.id for m in reversed(records)]
    assert [m.id for m in await attachment_store.stale_media(T0 + S, 2)] == oldest_first[:2]
    assert [m.id for m in await attachment_store.stale_media(T0 + S, 5)] == oldest_first
    assert await attachment_store.stale_media(T0 + S, 0) == []
    assert await attachment_store.stale_media(T0 + S, -1) == []
    assert await attachment_store.stale_media(T0 - 10 * S, 10) == []


async def test_delete_removes_media_and_ignores_unknown_ids(
    attachment_store: AttachmentStore,
) -> None:
    one, two = await create(
        attachment_store, media(created_at_ms=T0 - 2 * S), media(created_at_ms=T0 - S)
    )
    await attachment_store.delete_media([])
    await attachment_store.delete_media([one.id, IDS.next_id()])
    assert await attachment_store.get_media([one.id, two.id]) == {two.id: two}
    assert [m.id for m in await attachment_store.stale_media(T0, 10)] == [two.id]
    await attachment_store.delete_media([one.id])  # again: harmless


# --- links ------------------------------------------------------------------------------


async def test_links_read_back_by_code(attachment_store: AttachmentStore) -> None:
    long_url = "https://example.com/" + "p" * 2000
    await attachment_store.put_links(
        [
            ("abc123XY", "https://example.com/a?b=c#d"),
            ("Zz9", "https://exämple.org/ü"),
            ("L", long_url),
        ]
    )
    assert await attachment_store.get_links(["abc123XY", "Zz9", "L", "missing"]) == {
        "abc123XY": "https://example.com/a?b=c#d",
        "Zz9": "https://exämple.org/ü",
        "L": long_url,
    }
    assert await attachment_store.get_links([]) == {}
    await attachment_store.put_links([])


async def test_a_code_keeps_its_first_url(attachment_store: AttachmentStore) -> None:
    await attachment_store.put_links([("code0001", "https://first.example/")])
    await attachment_store.put_links([("code0001", "https://second.example/")])
    await attachment_store.put_links(
        [("code0002", "https://one.example/"), ("code0002", "https://two.example/")]
    )
    assert await attachment_store.get_links(["code0001", "code0002"]) == {
        "code0001": "https://first.example/",
        "code0002": "https://one.example/",
    }


async def test_codes_are_case_sensitive(attachment_store: AttachmentStore) -> None:
    await attachment_store.put_links(
        [("AbC", "https://upper.example/"), ("abc", "https://lower.example/")]
    )
    assert await attachment_store.get_links(["AbC", "abc", "ABC"]) == {
        "AbC": "https://upper.example/",
        "abc": "https://lower.example/",
    }


async def test_concurrent_puts_of_one_code_keep_a_single_url(
    attachment_store: AttachmentStore,
) -> None:
    urls = [f"https://racer{i}.example/" for i in range(8)]
    await asyncio.gather(*(attachment_store.put_links([("race", url)]) for url in urls))
    found = await attachment_store.get_links(["race"])
    assert found["race"] in urls
    assert await attachment_store.get_links(["race"]) == found
