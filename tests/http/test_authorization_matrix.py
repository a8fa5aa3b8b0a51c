"""The authorization matrix: who may call what, and who sees whose private data.

Every mutation, every root field and every field that exposes private data
(viewer-relative flags, notifications, bookmarks, mutes, blocks, lists, apps) has
a row saying what each of three callers gets, in the world of tests/http/world.py:

- the owner: alice, who owns the tweet, the photo, the upload and the app the
  call is about (or whose private data the field shows);
- another signed-in user: bob, calling about alice's things;
- an anonymous caller, with no token.

An outcome is one of: ``ALLOWED`` (a mutation answers with no errors), ``Sees(x)``
(a query answers ``x``), ``Refused(code)`` (a UserError in the mutation payload,
and the payload's object null), ``UNAUTHENTICATED`` (a top-level error). Each row
runs against a fresh world: anonymous first, then bob, then ``intact`` checks that
the refused (or merely different) calls left alice's things as they were, then
alice, then ``effect`` checks that her call did change them (so ``intact`` would
notice). Rows marked ``pending`` are fields of the API contract that the schema
does not have yet (issues 13 and 14): skipped while absent, checked once added.

Subscription rows subscribe over graphql-transport-ws: allowed means accepted
(nothing comes back at once). A mutation, root field or private field of the live
schema without a row fails ``test_every_field_has_a_row``, naming the row to add.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypedDict

import aiohttp
import graphql
import pytest

import schema as api
from tests.conftest import AppFactory, GraphQLClient
from tests.http.world import PASSWORD, Actor, Json, World, build_world

ACTORS: tuple[Actor, ...] = ("anonymous", "other", "owner")  # alice's own call last
PENDING = "issues 13/14"
# Types whose every field is private to one user: a field returning one of them (or
# its edges, connections, payloads) exposes private data wherever it sits.
PRIVATE_TYPES = ("App", "Notification", "NotificationGroup", "List")
VIEWER_RELATIVE = re.compile(r"^viewer[A-Z]|Viewer$")  # viewerFollows, blocksViewer...
SUBSCRIBED_WITHIN = 0.25  # seconds a subscription that was accepted stays silent


# --- outcomes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """A mutation that answers with an empty ``errors`` list (or a query without errors)."""


@dataclass(frozen=True)
class Sees:
    """A query that answers this value (or ``value(world)``) at its root field."""

    value: Any


@dataclass(frozen=True)
class Refused:
    """A mutation that answers a UserError with this code, and no object."""

    code: str


@dataclass(frozen=True)
class TopLevel:
    """A top-level GraphQL error with this extensions.code, and no data."""

    code: str


Outcome = Allowed | Sees | Refused | TopLevel
ALLOWED = Allowed()
UNAUTHENTICATED = TopLevel("UNAUTHENTICATED")
Check = Callable[[World], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    field: str  # "Type.field"
    document: str
    owner: Outcome
    other: Outcome
    anonymous: Outcome
    variables: Callable[[World, Actor], Json] = lambda world, actor: {}
    case: str = ""  # tells several rows of one field apart
    setup: Check | None = None  # runs on the fresh world before the calls
    intact: Check | None = None  # after the anonymous and the other call
    effect: Check | None = None  # after the owner's call
    pending: str = ""  # the issue adding the field: skipped while it is absent
    needs: tuple[str, ...] = ()  # other fields the row uses (its set-up, its checks)

    @property
    def name(self) -> str:
        return f"{self.field}[{self.case}]" if self.case else self.field

    def outcome(self, actor: Actor) -> Outcome:
        return {"owner": self.owner, "other": self.other, "anonymous": self.anonymous}[actor]


class Outcomes(TypedDict):
    owner: Outcome
    other: Outcome
    anonymous: Outcome


def signed_in(outcome: Outcome) -> Outcomes:
    """The same outcome for alice and bob; anonymous callers must sign in."""
    return Outcomes(owner=outcome, other=outcome, anonymous=UNAUTHENTICATED)


def everyone(outcome: Outcome) -> Outcomes:
    return Outcomes(owner=outcome, other=outcome, anonymous=outcome)


def owner_only(refusal: str = "FORBIDDEN") -> Outcomes:
    """alice may; bob is refused with ``refusal``; anonymous callers must sign in."""
    return Outcomes(owner=ALLOWED, other=Refused(refusal), anonymous=UNAUTHENTICATED)


def private(owner: Any, other: Any, anonymous: Outcome = UNAUTHENTICATED) -> Outcomes:
    """A query answering alice her data and bob his own (``other``), never alice's."""
    return Outcomes(owner=Sees(owner), other=Sees(other), anonymous=anonymous)


# --- reading the world back ---------------------------------------------------------------


async def ok(world: World, document: str, variables: Json | None = None, as_: str = "") -> Json:
    person = {"alice": world.alice, "bob": world.bob, "carol": world.carol}.get(as_)
    return await world.gql.ok(document, variables, person.token if person else None)


async def mutate(world: World, as_: str, document: str, variables: Json) -> Json:
    """A set-up mutation that must succeed; its payload."""
    data = await ok(world, document, variables, as_)
    (payload,) = data.values()
    if isinstance(payload, dict) and "errors" in payload:
        assert payload["errors"] == [], payload
    return payload  # type: ignore[no-any-return]


async def tweet_exists(world: World) -> bool:
    data = await ok(world, "query($id: ID!) { tweet(id: $id) { id } }", {"id": world.tweet})
    return data["tweet"] is not None


async def tweet_counts(world: World) -> Json:
    query = "query($id: ID!) { tweet(id: $id) { likeCount retweetCount } }"
    found: Json = (await ok(world, query, {"id": world.tweet}))["tweet"]
    return found


async def tweet_flags(world: World, as_: str, *flags: str) -> Json:
    query = f"query($id: ID!) {{ tweet(id: $id) {{ {' '.join(flags)} }} }}"
    found: Json = (await ok(world, query, {"id": world.tweet}, as_))["tweet"]
    return found


async def user_flags(world: World, handle: str, as_: str, *flags: str) -> Json:
    query = f"query($h: String!) {{ user(handle: $h) {{ {' '.join(flags)} }} }}"
    found: Json = (await ok(world, query, {"h": handle}, as_))["user"]
    return found


async def key_status(world: World) -> int:
    """The HTTP status of a request made with alice's app key."""
    response = await world.gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"X-Api-Key": world.key}
    )
    await response.read()
    return response.status


async def is_node(world: World, node_id: str, as_: str = "") -> bool:
    data = await ok(world, "query($id: ID!) { node(id: $id) { id } }", {"id": node_id}, as_)
    return data["node"] is not None


async def display_name(world: World, handle: str) -> str:
    name: str = (await user_flags(world, handle, "", "displayName"))["displayName"]
    return name


# --- checks run between the calls ---------------------------------------------------------


async def alice_keeps_her_name(world: World) -> None:
    assert await display_name(world, "alice") == "alice"


async def alice_renamed(world: World) -> None:
    assert await display_name(world, "alice") == "owner's name"


async def tweet_still_there(world: World) -> None:
    assert await tweet_exists(world)


async def tweet_gone(world: World) -> None:
    assert not await tweet_exists(world)


async def alice_likes_it(world: World) -> None:
    await mutate(world, "alice", LIKE, {"id": world.tweet})


async def alice_retweets_it(world: World) -> None:
    await mutate(world, "alice", RETWEET, {"id": world.tweet})


async def alice_still_likes_it(world: World) -> None:
    assert await tweet_flags(world, "alice", "viewerHasLiked") == {"viewerHasLiked": True}
    assert (await tweet_counts(world))["likeCount"] == 1


async def alice_still_retweets_it(world: World) -> None:
    assert await tweet_flags(world, "alice", "viewerHasRetweeted") == {"viewerHasRetweeted": True}
    assert (await tweet_counts(world))["retweetCount"] == 1


async def only_bob_liked(world: World) -> None:
    assert (await tweet_counts(world))["likeCount"] == 1
    assert await tweet_flags(world, "alice", "viewerHasLiked") == {"viewerHasLiked": False}


async def only_bob_retweeted(world: World) -> None:
    assert (await tweet_counts(world))["retweetCount"] == 1
    assert await tweet_flags(world, "alice", "viewerHasRetweeted") == {"viewerHasRetweeted": False}


async def upload_still_pending(world: World) -> None:
    assert not await is_node(world, world.upload, "alice")  # not an object until completed


async def upload_completed(world: World) -> None:
    assert await is_node(world, world.upload, "alice")


async def bob_posted_nothing(world: World) -> None:
    assert (await user_flags(world, "bob", "", "tweetsCount"))["tweetsCount"] == 0


async def alice_has_one_app(world: World) -> None:
    assert (await ok(world, "{ apps { id } }", as_="alice"))["apps"] == [{"id": world.app}]


async def key_still_works(world: World) -> None:
    assert await key_status(world) == 200
    await alice_has_one_app(world)


async def key_refused(world: World) -> None:
    assert await key_status(world) == 401


async def alice_follows_carol(world: World) -> None:
    await world.gql.follow(world.alice.token, world.carol.id)


async def carol_follows_alice(world: World) -> None:
    await world.gql.follow(world.carol.token, world.alice.id)


# --- the future's set-ups and checks (issues 13/14), from the API contract ---------------


async def bob_follows_alice(world: World) -> None:
    """Gives alice a FOLLOW notification."""
    await world.gql.follow(world.bob.token, world.alice.id)
    await world.gql.settle()


async def unread(world: World, as_: str) -> int:
    count: int = (await ok(world, "{ notifications { unreadCount } }", as_=as_))["notifications"][
        "unreadCount"
    ]
    return count


async def alice_has_one_unread(world: World) -> None:
    assert await unread(world, "alice") == 1


async def alice_has_read_all(world: World) -> None:
    assert await unread(world, "alice") == 0


async def alice_notification(world: World) -> None:
    await bob_follows_alice(world)
    data = await ok(world, "{ notifications { edges { node { id } } } }", as_="alice")
    world.made["notification"] = data["notifications"]["edges"][0]["node"]["id"]


async def bob_mentions_alice(world: World) -> None:
    await world.gql.tweet(world.bob.token, "hello @alice")


async def alice_blocks(world: World, user_id: str) -> None:
    await mutate(world, "alice", BLOCK, {"id": user_id})


async def alice_blocks_carol(world: World) -> None:
    await alice_blocks(world, world.carol.id)


async def alice_blocks_bob(world: World) -> None:
    await alice_blocks(world, world.bob.id)


async def alice_mutes_carol(world: World) -> None:
    await mutate(world, "alice", MUTE, {"id": world.carol.id})


async def alice_bookmarks_it(world: World) -> None:
    await mutate(world, "alice", BOOKMARK, {"id": world.tweet})


async def alice_flags_on_carol(world: World, flag: str) -> bool:
    found: bool = (await user_flags(world, "carol", "alice", flag))[flag]
    return found


async def alice_does_not_block_carol(world: World) -> None:
    assert not await alice_flags_on_carol(world, "viewerBlocks")


async def alice_blocks_carol_still(world: World) -> None:
    assert await alice_flags_on_carol(world, "viewerBlocks")


async def alice_does_not_mute_carol(world: World) -> None:
    assert not await alice_flags_on_carol(world, "viewerMutes")


async def alice_mutes_carol_still(world: World) -> None:
    assert await alice_flags_on_carol(world, "viewerMutes")


async def alice_bookmarked(world: World) -> bool:
    found: bool = (await tweet_flags(world, "alice", "viewerHasBookmarked"))["viewerHasBookmarked"]
    return found


async def alice_has_no_bookmark(world: World) -> None:
    assert not await alice_bookmarked(world)


async def alice_keeps_her_bookmark(world: World) -> None:
    assert await alice_bookmarked(world)


async def alice_moment(world: World, tweet_ids: list[str]) -> None:
    made = await mutate(
        world, "alice", CREATE_MOMENT, {"input": {"title": "alice's moment", "tweetIds": tweet_ids}}
    )
    world.made["moment"] = made["moment"]["id"]


async def empty_moment(world: World) -> None:
    await alice_moment(world, [])


async def moment_with_the_tweet(world: World) -> None:
    await alice_moment(world, [world.tweet])


async def moment(world: World) -> Json | None:
    query = "query($id: ID!) { moment(id: $id) { tweetCount } }"
    found: Json | None = (await ok(world, query, {"id": world.made["moment"]}))["moment"]
    return found


def moment_holds(count: int) -> Check:
    async def check(world: World) -> None:
        assert await moment(world) == {"tweetCount": count}

    return check


async def moment_gone(world: World) -> None:
    assert await moment(world) is None


async def alice_list(world: World, private: bool, name: str = "alice's list") -> None:
    made = await mutate(world, "alice", CREATE_LIST, {"input": {"name": name, "private": private}})
    world.made["list"] = made["list"]["id"]


async def private_list(world: World) -> None:
    await alice_list(world, private=True)


async def public_list(world: World) -> None:
    await alice_list(world, private=False)


async def private_list_with_carol(world: World) -> None:
    await private_list(world)
    await mutate(world, "alice", ADD_MEMBER, {"list": world.made["list"], "user": world.carol.id})


async def both_lists(world: World) -> None:
    await alice_list(world, private=True, name="secret")
    await alice_list(world, private=False, name="open")


async def list_as_alice(world: World) -> Json | None:
    query = "query($id: ID!) { list(id: $id) { memberCount } }"
    found: Json | None = (await ok(world, query, {"id": world.made["list"]}, "alice"))["list"]
    return found


def list_holds(count: int) -> Check:
    async def check(world: World) -> None:
        assert await list_as_alice(world) == {"memberCount": count}

    return check


async def list_gone(world: World) -> None:
    assert await list_as_alice(world) is None


# --- documents --------------------------------------------------------------------------

LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }"
RETWEET = "mutation($id: ID!) { retweet(tweetId: $id) { errors { code } } }"
BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { errors { code } } }"
MUTE = "mutation($id: ID!) { muteUser(userId: $id) { errors { code } } }"
BOOKMARK = "mutation($id: ID!) { bookmarkTweet(tweetId: $id) { errors { code } } }"
CREATE_MOMENT = """mutation($input: CreateMomentInput!) {
  createMoment(input: $input) { moment { id } errors { code } } }"""
CREATE_LIST = """mutation($input: CreateListInput!) {
  createList(input: $input) { list { id } errors { code } } }"""
ADD_MEMBER = """mutation($list: ID!, $user: ID!) {
  addListMember(listId: $list, userId: $user) { list { id } errors { code } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"


def ids(**chosen: Callable[[World], str]) -> Callable[[World, Actor], Json]:
    """Variables naming things of the world: ids(id=lambda w: w.tweet)."""
    return lambda world, actor: {name: pick(world) for name, pick in chosen.items()}


def made(name: str) -> Callable[[World], str]:
    return lambda world: world.made[name]


def node_row(case: str, target: Callable[[World], str], **outcomes: Any) -> Row:
    return Row("Query.node", NODE, variables=ids(id=target), case=case, **outcomes)


# --- the matrix -------------------------------------------------------------------------

MUTATIONS = [
    Row(
        "Mutation.signUp",
        """mutation($input: SignUpInput!) { signUp(input: $input) { token errors { code } } }""",
        variables=lambda w, actor: {"input": {"handle": f"new_{actor}", "password": PASSWORD}},
        **everyone(ALLOWED),
    ),
    Row(
        "Mutation.logIn",
        """mutation($input: LogInInput!) { logIn(input: $input) { token errors { code } } }""",
        variables=lambda w, actor: {"input": {"handle": "alice", "password": PASSWORD}},
        case="alice's password",
        **everyone(ALLOWED),
    ),
    Row(
        "Mutation.logIn",
        """mutation($input: LogInInput!) { logIn(input: $input) { token errors { code } } }""",
        variables=lambda w, actor: {"input": {"handle": "alice", "password": "a guess"}},
        case="a wrong password",
        **everyone(Refused("INVALID_CREDENTIALS")),
    ),
    Row(
        "Mutation.updateProfile",
        "mutation($n: String) { updateProfile(displayName: $n) { user { handle } errors { code } } }",
        variables=lambda w, actor: {"n": f"{actor}'s name"},
        intact=alice_keeps_her_name,  # bob renamed himself, not her
        effect=alice_renamed,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.followUser",
        "mutation($id: ID!) { followUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.alice.id),
        owner=Refused("SELF_FOLLOW"),
        other=ALLOWED,
        anonymous=UNAUTHENTICATED,
    ),
    Row(
        "Mutation.unfollowUser",
        "mutation($id: ID!) { unfollowUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.alice.id),
        owner=Refused("SELF_FOLLOW"),
        other=ALLOWED,
        anonymous=UNAUTHENTICATED,
    ),
    Row(
        "Mutation.createTweet",
        """mutation { createTweet(input: {text: "hello"}) { tweet { id } errors { code } } }""",
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.createTweet",
        """mutation($media: ID!) {
          createTweet(input: {text: "look", mediaIds: [$media]}) { tweet { id } errors { code } } }""",
        variables=ids(media=lambda w: w.photo),
        case="with alice's photo",
        intact=bob_posted_nothing,
        **owner_only(),
    ),
    Row(
        "Mutation.deleteTweet",
        "mutation($id: ID!) { deleteTweet(id: $id) { deletedId errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        intact=tweet_still_there,
        effect=tweet_gone,
        **owner_only(),
    ),
    Row(
        "Mutation.likeTweet",
        "mutation($id: ID!) { likeTweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        intact=only_bob_liked,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.unlikeTweet",
        "mutation($id: ID!) { unlikeTweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_likes_it,
        intact=alice_still_likes_it,  # bob's unlike takes back his like only
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.retweet",
        "mutation($id: ID!) { retweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        intact=only_bob_retweeted,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.undoRetweet",
        "mutation($id: ID!) { undoRetweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_retweets_it,
        intact=alice_still_retweets_it,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.createMediaUpload",
        """mutation { createMediaUpload(input: {contentType: "image/png", sizeBytes: 100}) {
          upload { uploadUrl } errors { code } } }""",
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.completeMediaUpload",
        "mutation($id: ID!) { completeMediaUpload(mediaId: $id) { media { id } errors { code } } }",
        variables=ids(id=lambda w: w.upload),
        intact=upload_still_pending,
        effect=upload_completed,
        **owner_only(),
    ),
    Row(
        "Mutation.registerApp",
        """mutation { registerApp(name: "another") { app { id } key errors { code } } }""",
        intact=alice_has_one_app,  # bob's app is his
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.revokeApp",
        "mutation($id: ID!) { revokeApp(id: $id) { deletedId errors { code } } }",
        variables=ids(id=lambda w: w.app),
        intact=key_still_works,
        effect=key_refused,
        **owner_only(),
    ),
    # --- pending: notifications, moments, blocks, mutes, bookmarks, lists
    Row(
        "Mutation.markNotificationsRead",
        "mutation { markNotificationsRead }",
        setup=bob_follows_alice,
        intact=alice_has_one_unread,  # bob marked his own as read
        effect=alice_has_read_all,
        pending=PENDING,
        needs=("Query.notifications",),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.createMoment",
        """mutation { createMoment(input: {title: "t"}) { moment { id } errors { code } } }""",
        pending=PENDING,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.addTweetToMoment",
        """mutation($m: ID!, $t: ID!) {
          addTweetToMoment(momentId: $m, tweetId: $t) { moment { id } errors { code } } }""",
        variables=ids(m=made("moment"), t=lambda w: w.tweet),
        setup=empty_moment,
        intact=moment_holds(0),
        effect=moment_holds(1),
        pending=PENDING,
        needs=("Mutation.createMoment", "Query.moment"),
        **owner_only(),
    ),
    Row(
        "Mutation.removeTweetFromMoment",
        """mutation($m: ID!, $t: ID!) {
          removeTweetFromMoment(momentId: $m, tweetId: $t) { moment { id } errors { code } } }""",
        variables=ids(m=made("moment"), t=lambda w: w.tweet),
        setup=moment_with_the_tweet,
        intact=moment_holds(1),
        effect=moment_holds(0),
        pending=PENDING,
        needs=("Mutation.createMoment", "Query.moment"),
        **owner_only(),
    ),
    Row(
        "Mutation.deleteMoment",
        "mutation($id: ID!) { deleteMoment(id: $id) { deletedId errors { code } } }",
        variables=ids(id=made("moment")),
        setup=empty_moment,
        intact=moment_holds(0),
        effect=moment_gone,
        pending=PENDING,
        needs=("Mutation.createMoment", "Query.moment"),
        **owner_only(),
    ),
    Row(
        "Mutation.blockUser",
        "mutation($id: ID!) { blockUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.carol.id),
        intact=alice_does_not_block_carol,  # bob's block is his own
        effect=alice_blocks_carol_still,
        pending=PENDING,
        needs=("User.viewerBlocks",),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.unblockUser",
        "mutation($id: ID!) { unblockUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.carol.id),
        setup=alice_blocks_carol,
        intact=alice_blocks_carol_still,
        effect=alice_does_not_block_carol,
        pending=PENDING,
        needs=("Mutation.blockUser", "User.viewerBlocks"),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.muteUser",
        "mutation($id: ID!) { muteUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.carol.id),
        intact=alice_does_not_mute_carol,
        effect=alice_mutes_carol_still,
        pending=PENDING,
        needs=("User.viewerMutes",),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.unmuteUser",
        "mutation($id: ID!) { unmuteUser(userId: $id) { user { id } errors { code } } }",
        variables=ids(id=lambda w: w.carol.id),
        setup=alice_mutes_carol,
        intact=alice_mutes_carol_still,
        effect=alice_does_not_mute_carol,
        pending=PENDING,
        needs=("Mutation.muteUser", "User.viewerMutes"),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.bookmarkTweet",
        "mutation($id: ID!) { bookmarkTweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        intact=alice_has_no_bookmark,  # bob's bookmark is his own
        effect=alice_keeps_her_bookmark,
        pending=PENDING,
        needs=("Tweet.viewerHasBookmarked",),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.unbookmarkTweet",
        "mutation($id: ID!) { unbookmarkTweet(tweetId: $id) { tweet { id } errors { code } } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_bookmarks_it,
        intact=alice_keeps_her_bookmark,
        effect=alice_has_no_bookmark,
        pending=PENDING,
        needs=("Mutation.bookmarkTweet", "Tweet.viewerHasBookmarked"),
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.createList",
        """mutation { createList(input: {name: "l", private: true}) { list { id } errors { code } } }""",
        pending=PENDING,
        **signed_in(ALLOWED),
    ),
    Row(
        "Mutation.deleteList",
        "mutation($id: ID!) { deleteList(id: $id) { deletedId errors { code } } }",
        variables=ids(id=made("list")),
        case="private: to bob it does not exist",
        setup=private_list,
        intact=list_holds(0),
        effect=list_gone,
        pending=PENDING,
        needs=("Mutation.createList", "Query.list"),
        **owner_only("NOT_FOUND"),
    ),
    Row(
        "Mutation.deleteList",
        "mutation($id: ID!) { deleteList(id: $id) { deletedId errors { code } } }",
        variables=ids(id=made("list")),
        case="public",
        setup=public_list,
        intact=list_holds(0),
        effect=list_gone,
        pending=PENDING,
        needs=("Mutation.createList", "Query.list"),
        **owner_only("FORBIDDEN"),
    ),
    Row(
        "Mutation.addListMember",
        """mutation($l: ID!, $u: ID!) {
          addListMember(listId: $l, userId: $u) { list { id } errors { code } } }""",
        variables=ids(l=made("list"), u=lambda w: w.carol.id),
        case="private",
        setup=private_list,
        intact=list_holds(0),
        effect=list_holds(1),
        pending=PENDING,
        needs=("Mutation.createList", "Query.list"),
        **owner_only("NOT_FOUND"),
    ),
    Row(
        "Mutation.removeListMember",
        """mutation($l: ID!, $u: ID!) {
          removeListMember(listId: $l, userId: $u) { list { id } errors { code } } }""",
        variables=ids(l=made("list"), u=lambda w: w.carol.id),
        case="private",
        setup=private_list_with_carol,
        intact=list_holds(1),
        effect=list_holds(0),
        pending=PENDING,
        needs=("Mutation.createList", "Mutation.addListMember", "Query.list"),
        **owner_only("NOT_FOUND"),
    ),
]

QUERIES = [
    Row("Query.me", "{ me { handle } }", **private({"handle": "alice"}, {"handle": "bob"})),
    Row("Query.apps", "{ apps { id } }", **private(lambda w: [{"id": w.app}], [])),
    Row(
        "Query.homeTimeline",
        "{ homeTimeline { edges { node { id } } } }",
        **private(lambda w: {"edges": [{"node": {"id": w.tweet}}]}, {"edges": []}),
    ),
    Row("Query.rateLimit", "{ rateLimit { limit remaining } }", **everyone(ALLOWED)),
    Row(
        "Query.user",
        """{ user(handle: "alice") { handle } }""",
        **everyone(Sees({"handle": "alice"})),
    ),
    Row(
        "Query.tweet",
        "query($id: ID!) { tweet(id: $id) { id } }",
        variables=ids(id=lambda w: w.tweet),
        **everyone(Sees(lambda w: {"id": w.tweet})),
    ),
    node_row("alice's tweet", lambda w: w.tweet, **everyone(Sees(lambda w: {"id": w.tweet}))),
    node_row("alice's ready photo", lambda w: w.photo, **everyone(Sees(lambda w: {"id": w.photo}))),
    node_row("alice's pending upload: no object yet", lambda w: w.upload, **everyone(Sees(None))),
    node_row("alice's app: apps are no nodes", lambda w: w.app, **everyone(Sees(None))),
    node_row(
        "alice's notification",
        made("notification"),
        setup=alice_notification,
        pending=PENDING,
        needs=("Query.notifications",),
        **private(lambda w: {"id": w.made["notification"]}, None, Sees(None)),
    ),
    node_row(
        "alice's private list",
        made("list"),
        setup=private_list,
        pending=PENDING,
        needs=("Mutation.createList",),
        owner=ALLOWED,  # the list or null: the contract does not say
        other=Sees(None),
        anonymous=Sees(None),
    ),
    # --- pending
    Row(
        "Query.notifications",
        "{ notifications { edges { node { kind actor { handle } } } unreadCount } }",
        setup=bob_follows_alice,
        pending=PENDING,
        **private(
            {"edges": [{"node": {"kind": "FOLLOW", "actor": {"handle": "bob"}}}], "unreadCount": 1},
            {"edges": [], "unreadCount": 0},
        ),
    ),
    Row(
        "Query.notificationGroups",
        "{ notificationGroups { unreadCount } }",
        setup=bob_follows_alice,
        pending=PENDING,
        **private({"unreadCount": 1}, {"unreadCount": 0}),
    ),
    Row(
        "Query.mentions",
        "{ mentions { edges { node { text } } } }",
        setup=bob_mentions_alice,
        pending=PENDING,
        **private({"edges": [{"node": {"text": "hello @alice"}}]}, {"edges": []}),
    ),
    Row(
        "Query.bookmarks",
        "{ bookmarks { edges { node { id } } } }",
        setup=alice_bookmarks_it,
        pending=PENDING,
        needs=("Mutation.bookmarkTweet",),
        **private(lambda w: {"edges": [{"node": {"id": w.tweet}}]}, {"edges": []}),
    ),
    Row(
        "Query.blockedUsers",
        "{ blockedUsers { edges { node { handle } } } }",
        setup=alice_blocks_carol,
        pending=PENDING,
        needs=("Mutation.blockUser",),
        **private({"edges": [{"node": {"handle": "carol"}}]}, {"edges": []}),
    ),
    Row(
        "Query.mutedUsers",
        "{ mutedUsers { edges { node { handle } } } }",
        setup=alice_mutes_carol,
        pending=PENDING,
        needs=("Mutation.muteUser",),
        **private({"edges": [{"node": {"handle": "carol"}}]}, {"edges": []}),
    ),
    Row(
        "Query.whoToFollow",
        "{ whoToFollow { handle } }",
        pending=PENDING,
        **signed_in(ALLOWED),
    ),
    Row(
        "Query.list",
        "query($id: ID!) { list(id: $id) { name } }",
        variables=ids(id=made("list")),
        case="private: to anyone else it does not exist",
        setup=private_list,
        pending=PENDING,
        needs=("Mutation.createList",),
        **private({"name": "alice's list"}, None, Sees(None)),
    ),
    Row(
        "Query.list",
        "query($id: ID!) { list(id: $id) { name } }",
        variables=ids(id=made("list")),
        case="public",
        setup=public_list,
        pending=PENDING,
        needs=("Mutation.createList",),
        **everyone(Sees({"name": "alice's list"})),
    ),
    Row(
        "Query.moment",
        "query($id: ID!) { moment(id: $id) { tweetCount } }",
        variables=ids(id=made("moment")),
        setup=moment_with_the_tweet,
        pending=PENDING,
        needs=("Mutation.createMoment",),
        **everyone(Sees({"tweetCount": 1})),
    ),
    Row(
        "Query.search",
        """{ search(query: "chirp") { edges { node { id } } } }""",
        pending=PENDING,
        **everyone(ALLOWED),
    ),
    Row("Query.trends", "{ trends { name } }", pending=PENDING, **everyone(ALLOWED)),
    Row(
        "Query.searchUsers",
        """{ searchUsers(query: "ali") { edges { node { handle } } } }""",
        pending=PENDING,
        **everyone(ALLOWED),
    ),
]

FIELDS = [
    Row(
        "User.viewerFollows",
        """{ user(handle: "carol") { viewerFollows } }""",
        setup=alice_follows_carol,
        **private(
            {"viewerFollows": True}, {"viewerFollows": False}, Sees({"viewerFollows": False})
        ),
    ),
    Row(
        "User.followsViewer",
        """{ user(handle: "carol") { followsViewer } }""",
        setup=carol_follows_alice,
        **private(
            {"followsViewer": True}, {"followsViewer": False}, Sees({"followsViewer": False})
        ),
    ),
    Row(
        "Tweet.viewerHasLiked",
        "query($id: ID!) { tweet(id: $id) { viewerHasLiked } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_likes_it,
        **private(
            {"viewerHasLiked": True}, {"viewerHasLiked": False}, Sees({"viewerHasLiked": False})
        ),
    ),
    Row(
        "Tweet.viewerHasRetweeted",
        "query($id: ID!) { tweet(id: $id) { viewerHasRetweeted } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_retweets_it,
        **private(
            {"viewerHasRetweeted": True},
            {"viewerHasRetweeted": False},
            Sees({"viewerHasRetweeted": False}),
        ),
    ),
    # --- pending
    Row(
        "Tweet.viewerHasBookmarked",
        "query($id: ID!) { tweet(id: $id) { viewerHasBookmarked } }",
        variables=ids(id=lambda w: w.tweet),
        setup=alice_bookmarks_it,
        pending=PENDING,
        needs=("Mutation.bookmarkTweet",),
        **private(
            {"viewerHasBookmarked": True},
            {"viewerHasBookmarked": False},
            Sees({"viewerHasBookmarked": False}),
        ),
    ),
    Row(
        "User.viewerBlocks",
        """{ user(handle: "carol") { viewerBlocks } }""",
        setup=alice_blocks_carol,
        pending=PENDING,
        needs=("Mutation.blockUser",),
        **private({"viewerBlocks": True}, {"viewerBlocks": False}, Sees({"viewerBlocks": False})),
    ),
    Row(
        "User.viewerMutes",
        """{ user(handle: "carol") { viewerMutes } }""",
        setup=alice_mutes_carol,
        pending=PENDING,
        needs=("Mutation.muteUser",),
        **private({"viewerMutes": True}, {"viewerMutes": False}, Sees({"viewerMutes": False})),
    ),
    Row(
        "User.blocksViewer",
        """{ user(handle: "alice") { blocksViewer } }""",
        setup=alice_blocks_bob,  # bob may know (the contract: so a client can say why)
        pending=PENDING,
        needs=("Mutation.blockUser",),
        **private({"blocksViewer": False}, {"blocksViewer": True}, Sees({"blocksViewer": False})),
    ),
    Row(
        "User.lists",
        """{ user(handle: "alice") { lists { edges { node { name } } } } }""",
        setup=both_lists,  # newest first: "open", then "secret"
        pending=PENDING,
        needs=("Mutation.createList",),
        **private(
            {"lists": {"edges": [{"node": {"name": "open"}}, {"node": {"name": "secret"}}]}},
            {"lists": {"edges": [{"node": {"name": "open"}}]}},
            Sees({"lists": {"edges": [{"node": {"name": "open"}}]}}),
        ),
    ),
]

SUBSCRIPTIONS = [
    Row(
        "Subscription.homeTimeline",
        "subscription { homeTimeline { id } }",
        **signed_in(ALLOWED),
    ),
    Row(
        "Subscription.hashtag",
        """subscription { hashtag(name: "chirp") { id } }""",
        **everyone(ALLOWED),
    ),
    Row(
        "Subscription.notifications",
        "subscription { notifications { id } }",
        pending=PENDING,
        **signed_in(ALLOWED),
    ),
]

ROWS = MUTATIONS + QUERIES + FIELDS + SUBSCRIPTIONS


# --- the live schema ----------------------------------------------------------------------


@cache
def live_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(api.export_sdl())


def has_field(schema: graphql.GraphQLSchema, coordinate: str) -> bool:
    type_name, field_name = coordinate.split(".")
    found = schema.get_type(type_name)
    return isinstance(found, graphql.GraphQLObjectType) and field_name in found.fields


def is_private_type(name: str) -> bool:
    """App, its payload, Notification, its edges and connections, List and its kin."""
    return any(re.fullmatch(rf"{kind}(Edge|Connection|Payload)?", name) for kind in PRIVATE_TYPES)


def exposes_private_data(field: graphql.GraphQLField, name: str) -> bool:
    named = graphql.get_named_type(field.type)
    description = (field.description or "").lower()
    return (
        bool(VIEWER_RELATIVE.search(name))
        or is_private_type(named.name)
        or "(auth)" in description
        or "private" in description
    )


def fields_needing_rows(schema: graphql.GraphQLSchema) -> list[str]:
    """Every root field, and every other field that exposes private data.

    Fields of private types (reached only through a row's field) and of mutation
    payloads (reached only through a mutation) need no row of their own.
    """
    roots = [t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t]
    needed = [f"{root.name}.{name}" for root in roots for name in root.fields]
    for type_ in schema.type_map.values():
        if (
            not isinstance(type_, graphql.GraphQLObjectType)
            or type_ in roots
            or type_.name.startswith("__")
            or type_.name.endswith("Payload")
            or is_private_type(type_.name)
        ):
            continue
        needed += [
            f"{type_.name}.{name}"
            for name, field in type_.fields.items()
            if exposes_private_data(field, name)
        ]
    return needed


def missing_rows(schema: graphql.GraphQLSchema, rows: list[Row]) -> list[str]:
    covered = {row.field for row in rows}
    return [
        f"{coordinate} has no row in the authorization matrix: add one to "
        "tests/http/test_authorization_matrix.py saying what the owner, another signed-in "
        "user and an anonymous caller get"
        for coordinate in fields_needing_rows(schema)
        if coordinate not in covered
    ]


# --- running a row ------------------------------------------------------------------------


def expected(value: Any, world: World) -> Any:
    return value(world) if callable(value) else value


def check(outcome: Outcome, body: Json, world: World, where: str) -> None:
    errors = body.get("errors") or []
    if isinstance(outcome, TopLevel):
        codes = [error["extensions"]["code"] for error in errors]
        assert codes, f"{where}: {body}"
        assert set(codes) == {outcome.code}, f"{where}: {body}"
        data = body.get("data")
        assert data is None or all(value is None for value in data.values()), f"{where}: {body}"
        return
    assert not errors, f"{where}: {errors}"
    ((_, answer),) = body["data"].items()
    if isinstance(outcome, Sees):
        assert answer == expected(outcome.value, world), f"{where}: {answer}"
    elif isinstance(outcome, Refused):
        assert [e["code"] for e in answer["errors"]] == [outcome.code], f"{where}: {answer}"
        objects = {key: value for key, value in answer.items() if key != "errors"}
        assert all(value is None for value in objects.values()), f"{where}: {answer}"
    elif isinstance(answer, dict) and "errors" in answer:
        assert answer["errors"] == [], f"{where}: {answer}"


async def subscription_answer(
    gql: GraphQLClient, token: str | None, document: str, variables: Json
) -> Json:
    """What a graphql-transport-ws subscribe answers: its first result, or, when the
    subscription was accepted and stays silent, an answer without errors."""
    async with gql.http.ws_connect("/graphql", protocols=("graphql-transport-ws",)) as ws:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        query = {"query": document, "variables": variables}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": query})
        try:
            message = await ws.receive(timeout=SUBSCRIBED_WITHIN)
        except TimeoutError:
            return {"data": {"subscribed": None}}
        assert message.type == aiohttp.WSMsgType.TEXT, message
        answer: Json = message.json()
        assert answer["type"] in ("next", "error"), answer
        result: Json = (
            answer["payload"] if answer["type"] == "next" else {"errors": answer["payload"]}
        )
        return result


async def call(world: World, row: Row, actor: Actor) -> Json:
    variables = row.variables(world, actor)
    token = world.token(actor)
    if row.field.startswith("Subscription."):
        return await subscription_answer(world.gql, token, row.document, variables)
    return await world.gql.raw(row.document, variables, token)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
async def test_row(make_client: AppFactory, row: Row) -> None:
    schema = live_schema()
    absent = [f for f in (row.field, *row.needs) if not has_field(schema, f)]
    if absent:
        assert row.pending, f"{row.name}: {absent} not in the schema (renamed? removed?)"
        pytest.skip(f"{', '.join(absent)}: not in the schema yet ({row.pending})")
    world = await build_world(await make_client())
    if row.setup:
        await row.setup(world)
    for actor in ACTORS:
        check(row.outcome(actor), await call(world, row, actor), world, f"{row.name} as {actor}")
        if actor == "other" and row.intact:
            await row.intact(world)
    if row.effect:
        await row.effect(world)


# --- the matrix is complete ---------------------------------------------------------------


def test_every_field_has_a_row() -> None:
    missing = missing_rows(live_schema(), ROWS)
    assert not missing, "\n".join(missing)


def test_a_new_mutation_or_private_field_without_a_row_fails() -> None:
    grown = graphql.extend_schema(
        live_schema(),
        graphql.parse(
            """extend type Mutation { frobnicate(id: ID!): Int! }
            extend type Query { drafts: [Tweet!]! }
            extend type User { viewerSnoozes: Boolean! }
            extend type Tweet { "Private: the author's note." note: String
                                "(auth) Seen by the viewer." seen: Boolean! }"""
        ),
    )
    assert sorted(m.split(" ")[0] for m in missing_rows(grown, ROWS)) == [
        "Mutation.frobnicate",
        "Query.drafts",
        "Tweet.note",
        "Tweet.seen",
        "User.viewerSnoozes",
    ]


def test_every_row_names_a_field_of_the_schema_or_is_pending() -> None:
    schema = live_schema()
    strays = [
        row.name
        for row in ROWS
        if not row.pending and not all(has_field(schema, f) for f in (row.field, *row.needs))
    ]
    assert not strays, f"rows for fields the schema does not have: {strays}"


async def test_refusals_happen_before_anything_changes(make_client: AppFactory) -> None:
    """Spot checks beyond the rows: bob's refused calls on alice's things, one after the
    other, leave every one of them as it was."""
    world = await build_world(await make_client())
    bob = world.bob.token
    refused = [
        ("mutation($id: ID!) { deleteTweet(id: $id) { errors { code } } }", world.tweet),
        ("mutation($id: ID!) { revokeApp(id: $id) { errors { code } } }", world.app),
        (
            "mutation($id: ID!) { completeMediaUpload(mediaId: $id) { errors { code } } }",
            world.upload,
        ),
    ]
    for document, target in refused:
        for _ in range(2):  # a retry is refused the same way
            (payload,) = (await world.gql.ok(document, {"id": target}, bob)).values()
            assert payload["errors"] == [{"code": "FORBIDDEN"}]
    await asyncio.gather(tweet_still_there(world), key_still_works(world))
    await upload_still_pending(world)
    media = await world.gql.ok(
        "mutation($id: ID!) { completeMediaUpload(mediaId: $id) { media { id } errors { code } } }",
        {"id": world.upload},
        world.alice.token,
    )
    assert media["completeMediaUpload"] == {"media": {"id": world.upload}, "errors": []}


async def test_an_api_key_names_an_app_not_a_user(make_client: AppFactory) -> None:
    """alice's app key alone signs nobody in: her private fields and her mutations still
    want her token."""
    world = await build_world(await make_client())
    key_only = {"X-Api-Key": world.key}
    for document, variables in (
        ("{ me { handle } }", {}),
        ("{ apps { id } }", {}),
        ("mutation($id: ID!) { revokeApp(id: $id) { errors { code } } }", {"id": world.app}),
        ("mutation($id: ID!) { deleteTweet(id: $id) { errors { code } } }", {"id": world.tweet}),
    ):
        body = await world.gql.raw(document, variables, headers=key_only)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    await key_still_works(world)
    await tweet_still_there(world)
