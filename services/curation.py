"""Curation: bookmarks (private), moments (ordered tweets) and lists (accounts whose tweets
make a timeline). Owner-only changes answer FORBIDDEN to anyone else; a private list
does not exist for anyone but its owner (NOT_FOUND, null)."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import UserError
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import (
    MAX_LIST_MEMBERS,
    BookmarkEdge,
    ListMember,
    ListRecord,
    MomentEntry,
    MomentRecord,
    TweetRecord,
)
from core.text import clean_text, has_visible_text, refuse_invalid_characters
from docstore.bookmarks import BookmarkStore
from docstore.lists import ListFullError, ListStore
from docstore.moments import MomentStore
from docstore.port import TweetStore
from graph.port import SocialGraph
from services.relations import RelationService

MAX_MOMENT_TITLE = 100
MAX_MOMENT_DESCRIPTION = 500
MAX_MOMENT_TWEETS_AT_CREATION = 100
MAX_LIST_NAME = 25  # as on X
MAX_LIST_DESCRIPTION = 100


def _text(raw: str, field: str, subject: str, limit: int, required: bool) -> str:
    """One line (a name, a title) or several (a description), cleaned like a tweet's text."""
    text = clean_text(raw, keep_newlines=not required)
    refuse_invalid_characters(text, field, subject, paired_bidi=True)
    if not has_visible_text(text):
        if required:
            raise UserError("EMPTY", f"{subject} needs some text.", field)
        return ""
    if len(text) > limit:
        raise UserError("TOO_LONG", f"{subject} is at most {limit} characters.", field)
    return text


class BookmarkService:
    def __init__(self, store: BookmarkStore, tweets: TweetStore, ids: SnowflakeGenerator) -> None:
        self.store = store
        self.tweets = tweets
        self.ids = ids

    async def _existing(self, tweet_id: int) -> TweetRecord:
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        return found

    async def bookmark(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        found = await self._existing(tweet_id)
        await self.store.bookmark(viewer_id, tweet_id, self.ids.next_id())
        return found

    async def unbookmark(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        found = await self._existing(tweet_id)
        await self.store.unbookmark(viewer_id, tweet_id)
        return found

    async def page(
        self, viewer_id: int, limit: int, before_bookmark_id: int | None
    ) -> list[BookmarkEdge]:
        return await self.store.bookmarks_of(viewer_id, limit, before_bookmark_id)

    async def bookmarked(self, viewer_id: int, tweet_ids: Sequence[int]) -> set[int]:
        return await self.store.bookmarked_tweet_ids(viewer_id, tweet_ids)

    async def tweet_deleted(self, tweet: TweetRecord) -> None:
        await self.store.remove_tweet_everywhere(tweet.id)


class MomentService:
    def __init__(self, store: MomentStore, tweets: TweetStore, ids: SnowflakeGenerator) -> None:
        self.store = store
        self.tweets = tweets
        self.ids = ids

    async def _tweets_exist(self, tweet_ids: Sequence[int], field: str) -> None:
        found = await self.tweets.get_tweets(tweet_ids)
        missing = [t for t in tweet_ids if t not in found]
        if missing:
            raise UserError("NOT_FOUND", f"No such tweet: {missing[0]}.", field)

    async def create(
        self, viewer_id: int, title: str, description: str, tweet_ids: Sequence[int]
    ) -> MomentRecord:
        clean_title = _text(title, "title", "A moment's title", MAX_MOMENT_TITLE, True)
        about = _text(description, "description", "A description", MAX_MOMENT_DESCRIPTION, False)
        wanted = list(dict.fromkeys(tweet_ids))
        if len(wanted) > MAX_MOMENT_TWEETS_AT_CREATION:
            raise UserError(
                "TOO_MANY",
                f"A moment starts with at most {MAX_MOMENT_TWEETS_AT_CREATION} tweets;"
                " add more with addTweetToMoment.",
                "tweetIds",
            )
        await self._tweets_exist(wanted, "tweetIds")
        moment_id = self.ids.next_id()
        record = MomentRecord(
            id=moment_id,
            owner_id=viewer_id,
            title=clean_title,
            description=about,
            created_at_ms=id_timestamp_ms(moment_id),
        )
        return await self.store.create_moment(record, wanted)

    async def get(self, moment_ids: Sequence[int]) -> dict[int, MomentRecord]:
        return await self.store.get_moments(moment_ids)

    async def _owned(self, viewer_id: int, moment_id: int, field: str) -> MomentRecord:
        found = (await self.store.get_moments([moment_id])).get(moment_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such moment.", field)
        if found.owner_id != viewer_id:
            raise UserError("FORBIDDEN", "Only the moment's owner can change it.", field)
        return found

    async def add(self, viewer_id: int, moment_id: int, tweet_id: int) -> MomentRecord:
        await self._owned(viewer_id, moment_id, "momentId")
        await self._tweets_exist([tweet_id], "tweetId")
        changed = await self.store.add_tweet(moment_id, tweet_id)
        if changed is None:
            raise UserError("NOT_FOUND", "No such moment.", "momentId")
        return changed

    async def remove(self, viewer_id: int, moment_id: int, tweet_id: int) -> MomentRecord:
        await self._owned(viewer_id, moment_id, "momentId")
        changed = await self.store.remove_tweet(moment_id, tweet_id)
        if changed is None:
            raise UserError("NOT_FOUND", "No such moment.", "momentId")
        return changed

    async def delete(self, viewer_id: int, moment_id: int) -> MomentRecord:
        found = await self._owned(viewer_id, moment_id, "id")
        deleted = await self.store.delete_moment(moment_id)
        return deleted or found

    async def of_owner(
        self, owner_id: int, limit: int, before_id: int | None
    ) -> list[MomentRecord]:
        return await self.store.moments_of(owner_id, limit, before_id)

    async def entries(
        self, moment_id: int, limit: int, after_position: int | None
    ) -> list[MomentEntry]:
        return await self.store.moment_tweets(moment_id, limit, after_position)

    async def tweet_deleted(self, tweet: TweetRecord) -> None:
        await self.store.remove_tweet_everywhere(tweet.id)


class ListService:
    def __init__(
        self,
        store: ListStore,
        graph: SocialGraph,
        relations: RelationService,
        ids: SnowflakeGenerator,
    ) -> None:
        self.store = store
        self.graph = graph
        self.relations = relations
        self.ids = ids

    async def create(
        self, viewer_id: int, name: str, description: str, private: bool
    ) -> ListRecord:
        clean_name = _text(name, "name", "A list's name", MAX_LIST_NAME, True)
        about = _text(description, "description", "A description", MAX_LIST_DESCRIPTION, False)
        list_id = self.ids.next_id()
        record = ListRecord(
            id=list_id,
            owner_id=viewer_id,
            name=clean_name,
            description=about,
            private=private,
            created_at_ms=id_timestamp_ms(list_id),
        )
        return await self.store.create_list(record)

    async def visible(
        self, viewer_id: int | None, list_ids: Sequence[int]
    ) -> dict[int, ListRecord]:
        """The lists the viewer may see: public ones, and private ones they own."""
        found = await self.store.get_lists(list_ids)
        return {i: r for i, r in found.items() if not r.private or r.owner_id == viewer_id}

    async def _owned(self, viewer_id: int, list_id: int, field: str) -> ListRecord:
        found = (await self.visible(viewer_id, [list_id])).get(list_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such list.", field)
        if found.owner_id != viewer_id:
            raise UserError("FORBIDDEN", "Only the list's owner can change it.", field)
        return found

    async def add(self, viewer_id: int, list_id: int, user_id: int) -> ListRecord:
        await self._owned(viewer_id, list_id, "listId")
        if user_id not in await self.graph.get_users([user_id]):
            raise UserError("NOT_FOUND", "No such user.", "userId")
        if await self.relations.blocked_either_way(viewer_id, user_id):
            raise UserError("FORBIDDEN", "A block stands between you and this account.", "userId")
        try:
            changed = await self.store.add_member(list_id, user_id, self.ids.next_id())
        except ListFullError:
            raise UserError(
                "LIST_FULL", f"A list holds at most {MAX_LIST_MEMBERS} accounts.", "userId"
            ) from None
        if changed is None:
            raise UserError("NOT_FOUND", "No such list.", "listId")
        return changed

    async def remove(self, viewer_id: int, list_id: int, user_id: int) -> ListRecord:
        await self._owned(viewer_id, list_id, "listId")
        changed = await self.store.remove_member(list_id, user_id)
        if changed is None:
            raise UserError("NOT_FOUND", "No such list.", "listId")
        return changed

    async def delete(self, viewer_id: int, list_id: int) -> ListRecord:
        found = await self._owned(viewer_id, list_id, "id")
        deleted = await self.store.delete_list(list_id)
        return deleted or found

    async def of_owner(
        self, viewer_id: int | None, owner_id: int, limit: int, before_id: int | None
    ) -> list[ListRecord]:
        return await self.store.lists_of(
            owner_id, limit, before_id, include_private=viewer_id == owner_id
        )

    async def members(
        self, list_id: int, limit: int, before_added_id: int | None
    ) -> list[ListMember]:
        return await self.store.members(list_id, limit, before_added_id)

    async def member_ids(self, list_id: int) -> list[int]:
        return await self.store.member_ids(list_id)
