"""Mutation root. Expected problems come back in the payload's ``errors``."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

import strawberry

from core.errors import UserError, UserErrors
from resolvers import accounts as account_resolvers
from resolvers import apps as app_resolvers
from resolvers import curation as curation_resolvers
from resolvers import media as media_resolvers
from resolvers import notifications as notification_resolvers
from resolvers import relations as relation_resolvers
from resolvers import social as social_resolvers
from resolvers import tweets as tweet_resolvers
from schema.types import App, Info, ListType, Media, Moment, Tweet, User, UserErrorType, media_of

T = TypeVar("T")


async def attempt(work: Awaitable[T]) -> tuple[T | None, list[UserErrorType]]:
    """Run a mutation; UserErrors become payload errors, anything else propagates."""
    try:
        return await work, []
    except UserErrors as exc:
        return None, [UserErrorType.of(e) for e in exc.errors]
    except UserError as exc:
        return None, [UserErrorType.of(exc)]


@strawberry.input
class SignUpInput:
    handle: str
    password: str
    display_name: str | None = strawberry.field(
        default=None,
        description="Up to 50 characters on one line; left out, blank or invisible: the handle."
        " No direction controls (U+202A-U+202E, U+2066-U+2069), U+FEFF, U+FFFE or U+FFFF:"
        " INVALID_CHARACTERS.",
    )
    bio: str | None = strawberry.field(
        default=None,
        description="Up to 160 characters, newlines kept; a tweet's character rules"
        " (INVALID_CHARACTERS); invisible only: no bio.",
    )


@strawberry.input
class LogInInput:
    handle: str
    password: str


@strawberry.input(description="latitude in [-90, 90], longitude in [-180, 180].")
class GeoPointInput:
    latitude: float
    longitude: float


@strawberry.input
class CreateTweetInput:
    text: str = strawberry.field(
        description="1-280 characters after NFC normalisation, each URL counting 23 "
        "(its short link length); not only whitespace. Characters are weighted as"
        " twitter-text v3 counts them, so a client's counter and the server agree: code points"
        " in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 count 1, all"
        " others (CJK, most symbols) 2, and an emoji sequence (ZWJ, skin tones, flags) 2."
        " Not only invisible characters either (zero-width characters, fillers, marks alone):"
        " EMPTY. INVALID_CHARACTERS for U+FEFF, U+FFFE, U+FFFF, the overrides U+202D/U+202E,"
        " or an embedding or isolate (U+202A/U+202B, U+2066-U+2068) not closed (U+202C,"
        " U+2069) on its line."
    )
    media_ids: list[strawberry.ID] | None = strawberry.field(
        default_factory=list,
        description="Up to 4 photos, or 1 video, or 1 GIF, each uploaded by the viewer and ready.",
    )
    in_reply_to_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The tweet this one answers (a retweet's id answers its original):"
        " NOT_FOUND when missing or deleted, FORBIDDEN when its author blocks the viewer"
        " or the viewer blocks its author.",
    )
    quote_of_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The tweet this one quotes (a retweet's id quotes its original):"
        " NOT_FOUND when missing or deleted, FORBIDDEN across a block.",
    )
    location: GeoPointInput | None = strawberry.field(
        default=None,
        description="Where the tweet was written; out of range (or not a finite number):"
        " INVALID_LOCATION naming location.latitude or location.longitude.",
    )


@strawberry.input
class CreateMediaUploadInput:
    content_type: str
    size_bytes: int


@strawberry.type
class Header:
    name: str
    value: str


@strawberry.type
class MediaUpload:
    media: Media
    upload_url: str = strawberry.field(
        description="Where the client sends the bytes with HTTP PUT; expires."
    )
    headers: list[Header] = strawberry.field(description="Headers the PUT must carry.")
    expires_at: datetime


@strawberry.type
class MediaUploadPayload:
    upload: MediaUpload | None
    errors: list[UserErrorType]


@strawberry.type
class MediaPayload:
    media: Media | None
    errors: list[UserErrorType]


@strawberry.type
class AuthPayload:
    token: str | None
    user: User | None
    errors: list[UserErrorType]


@strawberry.type
class TweetPayload:
    tweet: Tweet | None
    errors: list[UserErrorType]


@strawberry.type
class DeletePayload:
    deleted_id: strawberry.ID | None
    errors: list[UserErrorType]


@strawberry.type
class AppPayload:
    app: App | None
    key: str | None = strawberry.field(
        description="The API key: shown in this answer only; Chirp keeps only its hash."
    )
    errors: list[UserErrorType]


@strawberry.input
class CreateMomentInput:
    title: str = strawberry.field(description="1-100 characters on one line.")
    description: str | None = strawberry.field(default="", description="Up to 500 characters.")
    tweet_ids: list[strawberry.ID] | None = strawberry.field(
        default_factory=list,
        description="Tweets to start with (at most 100), in this order; each must exist.",
    )


@strawberry.type
class MomentPayload:
    moment: Moment | None
    errors: list[UserErrorType]


@strawberry.input
class CreateListInput:
    name: str = strawberry.field(description="1-25 characters on one line.")
    description: str | None = strawberry.field(default="", description="Up to 100 characters.")
    private: bool | None = strawberry.field(default=False, description="Visible to its owner only.")


@strawberry.type
class ListPayload:
    list_: ListType | None = strawberry.field(name="list")
    errors: list[UserErrorType]


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserErrorType]


def _auth_payload(result: tuple[str, object] | None, errors: list[UserErrorType]) -> AuthPayload:
    if result is None:
        return AuthPayload(token=None, user=None, errors=errors)
    token, user = result
    return AuthPayload(token=token, user=User.of(user), errors=errors)  # type: ignore[arg-type]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        result, errors = await attempt(
            account_resolvers.sign_up(
                info.context, input.handle, input.password, input.display_name, input.bio
            )
        )
        return _auth_payload(result, errors)

    @strawberry.mutation
    async def log_in(self, info: Info, input: LogInInput) -> AuthPayload:
        result, errors = await attempt(
            account_resolvers.log_in(info.context, input.handle, input.password)
        )
        return _auth_payload(result, errors)

    @strawberry.mutation(description="(auth) Returns the viewer.")
    async def update_profile(
        self, info: Info, display_name: str | None = None, bio: str | None = None
    ) -> UserPayload:
        user, errors = await attempt(
            account_resolvers.update_profile(info.context, display_name, bio)
        )
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Returns the followed user. Idempotent: following twice is not an error."
    )
    async def follow_user(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        user, errors = await attempt(social_resolvers.follow_user(info.context, user_id))
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(description="(auth) Returns the unfollowed user. Idempotent.")
    async def unfollow_user(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        user, errors = await attempt(social_resolvers.unfollow_user(info.context, user_id))
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(
        description="(auth) With an Idempotency-Key HTTP header, a retried request returns "
        "the first tweet instead of posting twice."
    )
    async def create_tweet(self, info: Info, input: CreateTweetInput) -> TweetPayload:
        tweet, errors = await attempt(
            tweet_resolvers.create_tweet(
                info.context,
                input.text,
                input.media_ids or [],
                input.in_reply_to_id,
                input.quote_of_id,
                (input.location.latitude, input.location.longitude) if input.location else None,
            )
        )
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Only the author may delete; the tweet leaves every timeline."
    )
    async def delete_tweet(self, info: Info, id: strawberry.ID) -> DeletePayload:
        deleted, errors = await attempt(tweet_resolvers.delete_tweet(info.context, id))
        return DeletePayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )

    @strawberry.mutation(description="(auth) Returns the liked tweet. Idempotent.")
    async def like_tweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(tweet_resolvers.like_tweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(description="(auth) Returns the tweet. Idempotent.")
    async def unlike_tweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(tweet_resolvers.unlike_tweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Takes the original's id; returns the retweet (retweeting twice "
        "returns the same one)."
    )
    async def retweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(tweet_resolvers.retweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Takes the original's id; returns the original. Idempotent."
    )
    async def undo_retweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(tweet_resolvers.undo_retweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Step 1 of a media upload: returns where to PUT the bytes."
    )
    async def create_media_upload(
        self, info: Info, input: CreateMediaUploadInput
    ) -> MediaUploadPayload:
        made, errors = await attempt(
            media_resolvers.create_media_upload(info.context, input.content_type, input.size_bytes)
        )
        if made is None:
            return MediaUploadPayload(upload=None, errors=errors)
        record, target = made
        upload = MediaUpload(
            media=media_of(info, record),
            upload_url=target.url,
            headers=[Header(name=k, value=v) for k, v in target.headers.items()],
            expires_at=target.expires_at,
        )
        return MediaUploadPayload(upload=upload, errors=[])

    @strawberry.mutation(
        description="(auth) Step 2: after the PUT, checks size and type of what arrived and "
        "marks the media ready."
    )
    async def complete_media_upload(self, info: Info, media_id: strawberry.ID) -> MediaPayload:
        record, errors = await attempt(
            media_resolvers.complete_media_upload(info.context, media_id)
        )
        return MediaPayload(media=media_of(info, record) if record else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Marks read every notification up to upToId (no id: all of them "
        "until now); returns how many became read."
    )
    async def mark_notifications_read(
        self, info: Info, up_to_id: strawberry.ID | None = None
    ) -> int:
        return await notification_resolvers.mark_read(info.context, up_to_id)

    @strawberry.mutation(
        description="(auth) Idempotent. Removes follows both ways; from then on neither "
        "follows, replies to, quotes or mentions the other with effect, and each vanishes from "
        "the other's timelines, search results, suggestions and notifications."
    )
    async def block_user(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        user, errors = await attempt(relation_resolvers.block_user(info.context, user_id))
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(description="(auth) Idempotent.")
    async def unblock_user(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        user, errors = await attempt(relation_resolvers.unblock_user(info.context, user_id))
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(
        description="(auth) Idempotent, one-way, private: the muted user's tweets and retweets "
        "leave the viewer's timelines (and, with hideNotifications, their notifications), until "
        "durationSeconds pass when given."
    )
    async def mute_user(
        self,
        info: Info,
        user_id: strawberry.ID,
        hide_notifications: bool | None = True,
        duration_seconds: int | None = None,
    ) -> UserPayload:
        user, errors = await attempt(
            relation_resolvers.mute_user(
                info.context,
                user_id,
                hide_notifications is not False,
                duration_seconds,
            )
        )
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(description="(auth) Idempotent.")
    async def unmute_user(self, info: Info, user_id: strawberry.ID) -> UserPayload:
        user, errors = await attempt(relation_resolvers.unmute_user(info.context, user_id))
        return UserPayload(user=User.of(user) if user else None, errors=errors)

    @strawberry.mutation(description="(auth) Private. Idempotent. Returns the tweet.")
    async def bookmark_tweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(curation_resolvers.bookmark_tweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(description="(auth) Idempotent. Returns the tweet.")
    async def unbookmark_tweet(self, info: Info, tweet_id: strawberry.ID) -> TweetPayload:
        tweet, errors = await attempt(curation_resolvers.unbookmark_tweet(info.context, tweet_id))
        return TweetPayload(tweet=Tweet.of(tweet) if tweet else None, errors=errors)

    @strawberry.mutation(description="(auth)")
    async def create_moment(self, info: Info, input: CreateMomentInput) -> MomentPayload:
        made, errors = await attempt(
            curation_resolvers.create_moment(
                info.context, input.title, input.description or "", input.tweet_ids or []
            )
        )
        return MomentPayload(moment=Moment.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Owner only. Adding a tweet twice keeps its place.")
    async def add_tweet_to_moment(
        self, info: Info, moment_id: strawberry.ID, tweet_id: strawberry.ID
    ) -> MomentPayload:
        made, errors = await attempt(
            curation_resolvers.add_tweet_to_moment(info.context, moment_id, tweet_id)
        )
        return MomentPayload(moment=Moment.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Owner only.")
    async def remove_tweet_from_moment(
        self, info: Info, moment_id: strawberry.ID, tweet_id: strawberry.ID
    ) -> MomentPayload:
        made, errors = await attempt(
            curation_resolvers.remove_tweet_from_moment(info.context, moment_id, tweet_id)
        )
        return MomentPayload(moment=Moment.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Owner only.")
    async def delete_moment(self, info: Info, id: strawberry.ID) -> DeletePayload:
        deleted, errors = await attempt(curation_resolvers.delete_moment(info.context, id))
        return DeletePayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )

    @strawberry.mutation(description="(auth)")
    async def create_list(self, info: Info, input: CreateListInput) -> ListPayload:
        made, errors = await attempt(
            curation_resolvers.create_list(
                info.context, input.name, input.description or "", bool(input.private)
            )
        )
        return ListPayload(list_=ListType.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Owner only.")
    async def delete_list(self, info: Info, id: strawberry.ID) -> DeletePayload:
        deleted, errors = await attempt(curation_resolvers.delete_list(info.context, id))
        return DeletePayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted else None, errors=errors
        )

    @strawberry.mutation(
        description="(auth) Owner only. Idempotent. At most 5,000 members (LIST_FULL)."
    )
    async def add_list_member(
        self, info: Info, list_id: strawberry.ID, user_id: strawberry.ID
    ) -> ListPayload:
        made, errors = await attempt(
            curation_resolvers.add_list_member(info.context, list_id, user_id)
        )
        return ListPayload(list_=ListType.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Owner only. Idempotent.")
    async def remove_list_member(
        self, info: Info, list_id: strawberry.ID, user_id: strawberry.ID
    ) -> ListPayload:
        made, errors = await attempt(
            curation_resolvers.remove_list_member(info.context, list_id, user_id)
        )
        return ListPayload(list_=ListType.of(made) if made else None, errors=errors)

    @strawberry.mutation(description="(auth) Returns the app and, once, its key.")
    async def register_app(self, info: Info, name: str) -> AppPayload:
        made, errors = await attempt(app_resolvers.register_app(info.context, name))
        if made is None:
            return AppPayload(app=None, key=None, errors=errors)
        app, key = made
        return AppPayload(app=App.of(app), key=key, errors=[])

    @strawberry.mutation(
        description="(auth) Owner only. Requests with its key are refused from then on."
    )
    async def revoke_app(self, info: Info, id: strawberry.ID) -> DeletePayload:
        revoked, errors = await attempt(app_resolvers.revoke_app(info.context, id))
        return DeletePayload(
            deleted_id=strawberry.ID(str(revoked)) if revoked else None, errors=errors
        )
