"""The social graph port: users, credentials, FOLLOWS edges, blocks and mutes.

Lists are newest first and paginated in the store by a keyset cursor
``(since_ms, user_id)``; the adapter fetches ``limit`` rows, never a whole
list. Methods taking many ids answer in one round trip.

**Blocks** (``BLOCKS`` relationships in Neo4j) are one-way edges with a time;
making one removes the follows between the two users both ways, in the same
transaction. **Mutes** (``MUTES``) are one-way and private, carry whether they
hide notifications too, and may expire: a mute whose ``expires_at_ms`` has
passed counts as absent everywhere (reads take ``now_ms``), so it ends on its
own with no sweeper. The questions the timeline engine asks (``hidden_among``,
``audience``) are answered in the database in one round trip, however many
users they name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from core.models import BlockOutcome, Credentials, FollowEdge, NewUser, UserRecord

# Second-hop caps of ``suggestions``: the viewer's most recently followed accounts
# considered, and the most recent follows of each one counted. At most
# SUGGESTION_SAMPLE * SUGGESTION_PER_FOLLOWEE = 20,000 edges are read, however
# many accounts the viewer follows or they follow.
SUGGESTION_SAMPLE = 200
SUGGESTION_PER_FOLLOWEE = 100

_HANDLE_PREFIX = re.compile(r"[a-z0-9_]*[a-z0-9][a-z0-9_]*")


def fold(text: str) -> str:
    """Lower case without accents: NFKD, combining marks dropped ("Éloïse" -> "eloise").

    What SQLite's ``unicode61 remove_diacritics 2`` tokenizer does to a word: letters
    with no decomposition (ø, ł, ß) stay as they are.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def name_words(text: str) -> list[str]:
    """The words of a display name or a query, folded: runs of letters and digits.

    Everything else separates words ("Jean-Luc O'Brien 🐦" -> jean, luc, o, brien),
    as in SQLite's ``unicode61`` tokenizer.
    """
    words: list[str] = []
    current: list[str] = []
    for char in fold(text):
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def handle_prefix(query: str) -> str | None:
    """The handle prefix a user search looks for, or None if the query can be none.

    The query folded, without one leading "@" ("@Ali" -> "ali"); None unless what is
    left is handle characters with at least one letter or digit.
    """
    text = fold(query.strip())
    text = text.removeprefix("@")
    return text if _HANDLE_PREFIX.fullmatch(text) else None


class HandleTakenError(Exception):
    """Another user already has this handle (compared case-insensitively)."""


class BlockedError(Exception):
    """One of the two users blocks the other: no follow between them."""


class SocialGraph(Protocol):
    async def create_user(self, user: NewUser) -> UserRecord:
        """Store a new user; raises HandleTakenError when the handle is in use."""
        ...

    async def get_users(self, ids: Sequence[int]) -> dict[int, UserRecord]:
        """Users by id; missing ids are absent from the result."""
        ...

    async def get_users_by_handles(self, handles_lower: Sequence[str]) -> dict[str, UserRecord]:
        """Users keyed by lower-cased handle; unknown handles are absent."""
        ...

    async def has_users(self) -> bool:
        """Whether any account exists (one index probe, not a count)."""
        ...

    async def get_credentials(self, handle_lower: str) -> Credentials | None: ...

    async def update_profile(
        self, user_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord | None:
        """Change the given fields (None leaves one as it is); None if no such user."""
        ...

    async def follow(self, follower_id: int, followee_id: int, since_ms: int) -> bool | None:
        """Create the edge: True if new, False if it existed, None if a user is missing.

        Raises BlockedError, creating nothing, when either user blocks the other:
        checked in the same transaction, so a follow racing a block never survives it.
        """
        ...

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        """Remove the edge; True if there was one."""
        ...

    async def followers(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Who follows ``user_id``, newest first, strictly after the (since_ms, id) cursor."""
        ...

    async def following(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` follows, newest first, strictly after the cursor."""
        ...

    async def following_ids(self, user_id: int) -> list[int]:
        """Every id ``user_id`` follows (for timeline assembly)."""
        ...

    async def followed_celebrities(self, user_id: int) -> list[int]:
        """The users marked celebrity (``set_celebrity``) that ``user_id`` follows, in any order.

        Answered from the few marked users, checking each one's edge from
        ``user_id``, never by reading ``user_id``'s whole followee list: a home
        read calls it on every page, whatever the number of followees.
        """
        ...

    async def set_celebrity(self, user_id: int, celebrity: bool) -> bool:
        """Mark whether the user's tweets skip fan-out; returns the previous mark."""
        ...

    async def count_followers(self, ids: Sequence[int]) -> dict[int, int]: ...

    async def count_following(self, ids: Sequence[int]) -> dict[int, int]: ...

    async def existing_follows(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (follower, followee) pairs among ``pairs`` that are edges."""
        ...

    # --- blocks and mutes -----------------------------------------------------

    async def block(self, blocker_id: int, blocked_id: int, since_ms: int) -> BlockOutcome | None:
        """Block, removing the follows between the two both ways; None if a user is missing.

        Blocking again is not an error (created False, nothing removed).
        """
        ...

    async def unblock(self, blocker_id: int, blocked_id: int) -> bool:
        """Remove the block; True if there was one."""
        ...

    async def mute(
        self,
        muter_id: int,
        muted_id: int,
        since_ms: int,
        expires_at_ms: int | None,
        hide_notifications: bool,
    ) -> bool | None:
        """Mute (or change an existing mute's expiry and notification setting).

        True if new (or the old one had expired), False if it replaced an active
        one, None if a user is missing. Whether the old one had expired is judged
        at ``since_ms``; an active mute replaced keeps its ``since`` (its place in
        ``muted``), one made over an expired mute starts at ``since_ms``.
        """
        ...

    async def unmute(self, muter_id: int, muted_id: int, now_ms: int | None = None) -> bool:
        """Remove the mute (an expired one too); True if there was one active at
        ``now_ms`` (None: the current time)."""
        ...

    async def blocked(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` blocks, newest first, strictly after the (since_ms, id) cursor."""
        ...

    async def muted(
        self, user_id: int, limit: int, now_ms: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` mutes (active mutes only), newest first, after the cursor."""
        ...

    async def existing_blocks(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (blocker, blocked) pairs among ``pairs`` that are blocks."""
        ...

    async def existing_mutes(
        self, pairs: Sequence[tuple[int, int]], now_ms: int
    ) -> set[tuple[int, int]]:
        """The (muter, muted) pairs among ``pairs`` that are active mutes."""
        ...

    async def hidden_among(
        self, viewer_id: int, user_ids: Sequence[int], now_ms: int, notifications: bool = False
    ) -> set[int]:
        """Those of ``user_ids`` the viewer must not see: the viewer blocks them, they
        block the viewer, or the viewer mutes them (with ``notifications``: only the
        mutes that hide notifications count). The viewer's own id is never hidden,
        nor an id that is no user. One round trip."""
        ...

    async def hidden_ids(
        self, viewer_id: int, now_ms: int, notifications: bool = False
    ) -> set[int]:
        """Every user ``hidden_among`` would name for the viewer (blocks both ways, active
        mutes; with ``notifications`` only mutes that hide notifications)."""
        ...

    async def audience(
        self,
        reader_ids: Sequence[int],
        now_ms: int,
        authors: Sequence[int],
        must_follow: int | None = None,
    ) -> set[int]:
        """Those of ``reader_ids`` who may receive a tweet in their home timeline.

        A reader is left out when they block, are blocked by, or mute any of
        ``authors`` (the tweet's author, and for a retweet the original's
        author); with ``must_follow`` (the author a reply answers), a reader is
        kept only if they follow that user or are that user. Ids that are no user
        are left out. One round trip for the whole batch: fan-out asks it once per
        batch of followers.
        """
        ...

    # --- discovery --------------------------------------------------------------

    async def suggestions(
        self,
        viewer_id: int,
        limit: int,
        now_ms: int,
        sample: int = SUGGESTION_SAMPLE,
        per_followee: int = SUGGESTION_PER_FOLLOWEE,
    ) -> list[tuple[int, int]]:
        """Who to follow: friends of friends, as ``(user_id, mutual)`` pairs, best first.

        ``mutual`` is how many of the viewer's followees follow the user, counted
        over a bounded second hop: the viewer's ``sample`` most recently followed
        accounts (by follow time, then id, newest first: the order of
        ``following``), and of each of them its ``per_followee`` most recent
        follows (same order). So ``mutual`` is at most ``sample``, and at most
        ``sample * per_followee`` edges are read, however many the viewer follows.

        Ranked by ``mutual`` descending, then by fewer followers (a smaller account
        is likelier to follow back and less likely known already: Mastodon's
        order), then by id ascending. Never the viewer, anyone the viewer follows
        (any followee, not only the sampled ones), anyone blocked either way, or
        anyone the viewer mutes at ``now_ms``. One round trip.
        """
        ...

    async def popular(self, viewer_id: int, limit: int, now_ms: int) -> list[int]:
        """The most followed users, for a viewer with no friends of friends yet.

        Most followers first, then id ascending; only users with at least one
        follower; with the exclusions of ``suggestions`` (the viewer, followees,
        blocks either way, active mutes). "Active" is not known to the graph (it
        does not see tweets): a service wanting recently active accounts filters
        this list. Read from the kept follower counts in the order of an index, not
        counted: the work is ``limit`` plus the viewer's exclusions, not the number
        of users. Meant for viewers who follow few accounts (each one followed is
        one more user to read past).
        """
        ...

    async def search_users(self, query: str, limit: int, offset: int = 0) -> list[UserRecord]:
        """Users whose handle or display name the query begins, best first.

        The ranked list is:

        1. handle matches: ``handle_prefix(query)`` is a prefix of the handle
           (case-insensitively), the exact handle first, then shorter handles,
           then alphabetically (by lower-cased handle);
        2. then display-name matches not already in 1: every word of
           ``name_words(query)`` begins some word of the display name (case- and
           accent-insensitively: "ali" finds "Alice Smith", "elo" finds "Éloïse"),
           most followed first, then id ascending.

        ``offset`` skips that many of the list (an offset cursor: the list is
        ranked, not keyed, so a user followed between two pages may move across
        the page boundary). A query with no letter or digit matches nothing and is
        never an error. The work is bounded by the matches of the query's prefix in
        each index, never a scan of all users.
        """
        ...

    async def ping(self) -> None:
        """Raise if the store cannot answer."""
        ...

    async def close(self) -> None: ...
