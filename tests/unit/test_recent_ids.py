"""RecentIds: the accounts a token was recently checked against."""

from __future__ import annotations

import time

from services.accounts import RecentIds


def test_an_id_is_known_until_its_time_is_up() -> None:
    recent = RecentIds(ttl=0.05)
    recent.add(1)
    assert 1 in recent
    assert 2 not in recent
    time.sleep(0.06)
    assert 1 not in recent


def test_the_oldest_ids_go_first_when_full() -> None:
    recent = RecentIds(ttl=60, size=2)
    recent.add(1)
    recent.add(2)
    recent.add(1)  # seen again: now the newest
    recent.add(3)
    assert 1 in recent
    assert 3 in recent
    assert 2 not in recent
