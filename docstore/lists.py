"""The lists port: accounts a user curated into a list, whose tweets make a timeline.

A list is a record (owner, name, description, private flag, when it was made) and its
members: each account at most once, with the id of its membership, a snowflake the
service makes when the member is added. Ids sort by time, so "most recently added
first" is "highest added id first", and an added id is the cursor of ``members``.
Adding an account that is a member already changes nothing (it keeps its first added
id). ``member_count`` is kept on the record and changed in the same transaction as
the membership it counts, so it is exact under concurrency.

**The cap.** A list holds at most ``max_members`` accounts (each adapter takes it as
a constructor argument, ``MAX_LIST_MEMBERS``, 5,000, by default). ``add_member``
refuses a new member of a full list with ListFullError, atomically: the count is
raised only by a conditional update "count < cap" of the list's record, in the
transaction that inserts the membership, so concurrent adds can never take it past
the cap (see each adapter for why).

List ids are snowflakes the service makes; "newest first" is "highest id first". Who
may change a list (its owner only) and who may see a private one (its owner only)
are the service's to decide: it reads the list first; a mutation answers None when
the list is not there (any more), and the list as it now is otherwise. The list's
timeline is the timeline engine's: it takes ``member_ids`` and pulls their tweets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import ListMember, ListRecord


class ListFullError(Exception):
    """The list holds ``cap`` members already: the new one was not added."""

    def __init__(self, list_id: int, cap: int) -> None:
        super().__init__(f"list {list_id} holds {cap} members, the most a list may hold")
        self.list_id = list_id
        self.cap = cap


class ListStore(Protocol):
    async def create_list(self, record: ListRecord) -> ListRecord:
        """Store the list (its ``member_count`` is ignored: a new list has no members);
        returns it as stored."""
        ...

    async def get_lists(self, ids: Sequence[int]) -> dict[int, ListRecord]:
        """Lists by id (Query.list, Query.node), private or not; missing ids are absent."""
        ...

    async def lists_of(
        self,
        owner_id: int,
        limit: int,
        before_id: int | None = None,
        include_private: bool = True,
    ) -> list[ListRecord]:
        """The owner's lists with id < before_id, newest first; without the private ones
        unless ``include_private`` (the service passes it for the owner only)."""
        ...

    async def add_member(self, list_id: int, user_id: int, added_id: int) -> ListRecord | None:
        """Add the account to the list, unless it is a member already (then nothing
        changes, even on a full list). None: no such list. Raises ListFullError when the
        list is full: nothing is stored."""
        ...

    async def remove_member(self, list_id: int, user_id: int) -> ListRecord | None:
        """Take the account off the list, if it is on it. None: no such list."""
        ...

    async def delete_list(self, list_id: int) -> ListRecord | None:
        """Delete the list and its memberships; returns what was deleted, or None."""
        ...

    async def members(
        self, list_id: int, limit: int, before_added_id: int | None = None
    ) -> list[ListMember]:
        """The list's members with added_id < before_added_id, most recently added first."""
        ...

    async def member_ids(self, list_id: int) -> list[int]:
        """Every member's user id, most recently added first (at most ``max_members``):
        whose tweets make the list's timeline."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
