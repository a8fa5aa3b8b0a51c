"""Accounts and authentication over HTTP.

The rules these tests pin down:

- signUp returns a bearer token and the user; handles are unique regardless
  of case; logIn never says whether it was the handle or the password that
  was wrong.
- A password is never sent back and never stored in plain text.
- Fields marked (auth) in the contract refuse a request without a valid
  token (missing, malformed, tampered, signed elsewhere, expired) with a
  top-level UNAUTHENTICATED error that says what to do, and write nothing.
- updateProfile validates what it is given and changes nothing on error.
- A token survives an app restart on the same data folder.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient

from bootstrap.settings import Settings
from core.security import Tokens
from tests.conftest import SECRET, AppFactory, GraphQLClient, answer

Json = dict[str, Any]
PASSWORD = "Tr0ub4dor&3-plaintext-canary"

USER_FIELDS = """
  id handle displayName bio createdAt
  followersCount followingCount tweetsCount viewerFollows followsViewer
  followers { edges { cursor node { id handle } } pageInfo { hasNextPage endCursor } }
  following { edges { cursor node { id handle } } pageInfo { hasNextPage endCursor } }
  tweets { edges { cursor node { id text } } pageInfo { hasNextPage endCursor } }
  likes { edges { cursor node { id text } } pageInfo { hasNextPage endCursor } }
"""
SIGN_UP = f"""
mutation($input: SignUpInput!) {{
  signUp(input: $input) {{ token user {{ {USER_FIELDS} }} errors {{ code message field }} }}
}}
"""
LOG_IN = f"""
mutation($input: LogInInput!) {{
  logIn(input: $input) {{ token user {{ {USER_FIELDS} }} errors {{ code message field }} }}
}}
"""
ME = f"{{ me {{ {USER_FIELDS} }} }}"


# --- helpers ---------------------------------------------------------------------------------


async def post(
    http: TestClient[Any, Any],
    query: str,
    variables: Json | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, Json]:
    """POST a GraphQL request with the given headers; (raw text, parsed body).

    Every answer must be a 200 without a stack trace and without an internal error.
    """
    sent = {"Content-Type": "application/json", **(headers or {})}
    response = await http.post(
        "/graphql", data=json.dumps({"query": query, "variables": variables or {}}), headers=sent
    )
    text = await response.text()
    assert response.status == 200, text
    assert "Traceback" not in text, text
    body: Json = json.loads(text)
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", body
    return text, body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unauthenticated_error(body: Json, field: str) -> str:
    """The message of the single top-level UNAUTHENTICATED error, on ``field``."""
    errors = body.get("errors")
    assert errors, body
    [error] = errors
    assert error["extensions"]["code"] == "UNAUTHENTICATED", body
    assert error["path"] == [field], body
    message: str = error["message"]
    assert message.strip(), body
    return message


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_changed_signature(token: str) -> str:
    """The token with one character in the middle of its signature changed.

    (The last character is avoided: some of its bits are padding, so changing it
    may not change the decoded signature at all.)
    """
    header, payload, signature = token.split(".")
    i = len(signature) // 2
    swapped = "A" if signature[i] != "A" else "B"
    return ".".join([header, payload, signature[:i] + swapped + signature[i + 1 :]])


def with_changed_subject(token: str, user_id: str) -> str:
    """The token claiming to be ``user_id``, keeping the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["sub"] = user_id
    forged = b64url(json.dumps(claims, separators=(",", ":")).encode())
    return ".".join([header, forged, signature])


def data_files(settings: Settings) -> dict[str, bytes]:
    """Every file in the data folder (SQLite databases with their WAL files), as bytes."""
    return {
        p.name: p.read_bytes() for p in sorted(Path(settings.data_dir).iterdir()) if p.is_file()
    }


def count_rows(settings: Settings, database: str, table: str) -> int:
    uri = f"file:{Path(settings.data_dir) / database}?mode=ro"
    with sqlite3.connect(uri, uri=True) as conn:
        (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert isinstance(count, int)
    return count


@dataclass(frozen=True)
class Account:
    token: str
    id: str


@dataclass(frozen=True)
class World:
    """alice follows bob and likes his tweet; both have tweeted."""

    alice: Account
    bob: Account
    alice_tweet: str
    bob_tweet: str


@pytest.fixture
async def world(gql: GraphQLClient) -> World:
    alice = Account(*await gql.sign_up("alice"))
    bob = Account(*await gql.sign_up("bob"))
    alice_tweet = await gql.tweet(alice.token, "alice was here")
    bob_tweet = await gql.tweet(bob.token, "bob was here")
    await gql.follow(alice.token, bob.id)
    liked = await gql.ok(
        "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }",
        {"id": bob_tweet},
        alice.token,
    )
    assert liked["likeTweet"]["errors"] == []
    return World(alice, bob, alice_tweet, bob_tweet)


STATE_QUERY = """
query($aliceTweet: ID!, $bobTweet: ID!) {
  alice: user(handle: "alice") {
    displayName bio followersCount followingCount tweetsCount
    following { edges { node { id } } }
    likes { edges { node { id } } }
    tweets { edges { node { id } } }
  }
  bob: user(handle: "bob") {
    displayName bio followersCount followingCount tweetsCount
    tweets { edges { node { id } } }
  }
  aliceTweet: tweet(id: $aliceTweet) { id likeCount }
  bobTweet: tweet(id: $bobTweet) { id likeCount }
}
"""


async def state(gql: GraphQLClient, world: World) -> Json:
    """Everything a stray write could change, as the API shows it."""
    return await gql.ok(STATE_QUERY, {"aliceTweet": world.alice_tweet, "bobTweet": world.bob_tweet})


# --- signing up and logging in -----------------------------------------------------------------


class TestSignUp:
    async def test_sign_up_returns_a_token_and_the_new_user(self, gql: GraphQLClient) -> None:
        _, body = await post(
            gql.http,
            SIGN_UP,
            {"input": {"handle": "Alice_1", "password": PASSWORD, "bio": "hi there"}},
        )
        payload = body["data"]["signUp"]
        assert payload["errors"] == []
        assert payload["token"]
        user = payload["user"]
        assert user["handle"] == "Alice_1"
        assert user["displayName"] == "Alice_1"  # defaults to the handle
        assert user["bio"] == "hi there"
        assert (user["followersCount"], user["followingCount"], user["tweetsCount"]) == (0, 0, 0)

        _, me = await post(gql.http, "{ me { id handle } }", headers=bearer(payload["token"]))
        assert answer(me) == {"data": {"me": {"id": user["id"], "handle": "Alice_1"}}}

    @pytest.mark.parametrize("again", ["alice", "ALICE", "aLiCe", " alice "])
    async def test_handles_are_unique_regardless_of_case(
        self, gql: GraphQLClient, again: str
    ) -> None:
        await gql.sign_up("Alice")
        _, body = await post(
            gql.http, SIGN_UP, {"input": {"handle": again, "password": "another password"}}
        )
        payload = body["data"]["signUp"]
        assert payload["token"] is None
        assert payload["user"] is None
        [error] = payload["errors"]
        assert (error["code"], error["field"]) == ("HANDLE_TAKEN", "handle")
        # The first account is untouched: still logs in with its own password.
        _, login = await post(
            gql.http, LOG_IN, {"input": {"handle": "Alice", "password": "correct horse"}}
        )
        assert login["data"]["logIn"]["errors"] == []


class TestLogIn:
    async def test_log_in_returns_a_working_token(self, gql: GraphQLClient) -> None:
        _, user_id = await gql.sign_up("alice", PASSWORD)
        _, body = await post(gql.http, LOG_IN, {"input": {"handle": "alice", "password": PASSWORD}})
        payload = body["data"]["logIn"]
        assert payload["errors"] == []
        assert payload["user"]["id"] == user_id
        _, me = await post(gql.http, "{ me { id } }", headers=bearer(payload["token"]))
        assert answer(me) == {"data": {"me": {"id": user_id}}}

    @pytest.mark.parametrize("handle", ["ALICE", "Alice", "aLIce"])
    async def test_log_in_ignores_the_case_of_the_handle(
        self, gql: GraphQLClient, handle: str
    ) -> None:
        _, user_id = await gql.sign_up("alice", PASSWORD)
        _, body = await post(gql.http, LOG_IN, {"input": {"handle": handle, "password": PASSWORD}})
        payload = body["data"]["logIn"]
        assert payload["errors"] == []
        assert payload["user"]["id"] == user_id
        assert payload["user"]["handle"] == "alice"  # as written at sign-up

    async def test_wrong_password_and_unknown_handle_are_indistinguishable(
        self, gql: GraphQLClient
    ) -> None:
        await gql.sign_up("alice", PASSWORD)
        attempts = [
            {"handle": "alice", "password": PASSWORD + "x"},  # wrong password
            {"handle": "alice", "password": PASSWORD.upper()},  # passwords are case-sensitive
            {"handle": "nobody", "password": PASSWORD},  # unknown handle
            {"handle": "not a handle!", "password": PASSWORD},  # could never exist
            {"handle": "alice", "password": ""},
        ]
        payloads = []
        for attempt in attempts:
            _, body = await post(gql.http, LOG_IN, {"input": attempt})
            payloads.append(body["data"]["logIn"])
        first = payloads[0]
        assert first["token"] is None
        assert first["user"] is None
        [error] = first["errors"]
        assert error["code"] == "INVALID_CREDENTIALS"
        assert error["field"] is None
        assert error["message"]
        assert all(p == first for p in payloads), payloads


# --- passwords stay secret ---------------------------------------------------------------------


class TestPasswordSecrecy:
    async def test_the_password_is_in_no_response(self, gql: GraphQLClient) -> None:
        texts = []
        text, body = await post(
            gql.http, SIGN_UP, {"input": {"handle": "alice", "password": PASSWORD}}
        )
        texts.append(text)
        token = body["data"]["signUp"]["token"]
        user_id = body["data"]["signUp"]["user"]["id"]
        other, _ = await gql.sign_up("bob")
        await gql.follow(other, user_id)
        await gql.follow(token, (await gql.ok('{ user(handle: "bob") { id } }'))["user"]["id"])
        await gql.tweet(token, "a tweet to list")

        requests: list[tuple[str, Json | None, dict[str, str]]] = [
            (LOG_IN, {"input": {"handle": "alice", "password": PASSWORD}}, {}),
            (ME, None, bearer(token)),
            (f'{{ user(handle: "alice") {{ {USER_FIELDS} }} }}', None, {}),
            (f'{{ user(handle: "alice") {{ {USER_FIELDS} }} }}', None, bearer(other)),
            (f'{{ node(id: "{user_id}") {{ ... on User {{ {USER_FIELDS} }} }} }}', None, {}),
            (
                f'{{ user(handle: "bob") {{ followers {{ edges {{ node {{ {USER_FIELDS} }} }} }} }} }}',
                None,
                {},
            ),
            (
                f'mutation {{ updateProfile(bio: "new bio") {{ user {{ {USER_FIELDS} }} }} }}',
                None,
                bearer(token),
            ),
            (
                f"{{ homeTimeline {{ edges {{ node {{ author {{ {USER_FIELDS} }} }} }} }} }}",
                None,
                bearer(token),
            ),
        ]
        for query, variables, headers in requests:
            text, body = await post(gql.http, query, variables, headers)
            assert "errors" not in body, body
            texts.append(text)
        for text in texts:
            assert PASSWORD not in text
            assert "$argon2" not in text  # nor its hash

    async def test_the_schema_has_no_password_field_to_query(self, gql: GraphQLClient) -> None:
        data = await gql.ok('{ __type(name: "User") { fields { name } } }')
        names = [f["name"].lower() for f in data["__type"]["fields"]]
        assert not [n for n in names if "password" in n or "hash" in n], names

    async def test_the_password_is_not_stored_in_plain_text(
        self, gql: GraphQLClient, settings: Settings
    ) -> None:
        token, _ = await gql.sign_up("alice", PASSWORD)
        await post(gql.http, LOG_IN, {"input": {"handle": "alice", "password": PASSWORD}})
        await gql.tweet(token, "hello")

        files = data_files(settings)
        assert "graph.sqlite3" in files
        everything = b"".join(files.values())
        for encoded in (PASSWORD.encode(), PASSWORD.encode("utf-16-le")):
            assert encoded not in everything, [n for n, b in files.items() if encoded in b]
        assert b"$argon2id$" in everything  # what is stored instead: an argon2id hash


# --- (auth) fields ------------------------------------------------------------------------------

AUTH_FIELDS = [
    pytest.param("me", "{ me { id } }", id="me"),
    pytest.param("homeTimeline", "{ homeTimeline { edges { cursor } } }", id="homeTimeline"),
    pytest.param(
        "createTweet",
        'mutation { createTweet(input: {text: "sneaky"}) { tweet { id } errors { code } } }',
        id="createTweet",
    ),
    pytest.param(
        "followUser",
        "mutation { followUser(userId: $BOB) { user { id } errors { code } } }",
        id="followUser",
    ),
    pytest.param(
        "unfollowUser",
        "mutation { unfollowUser(userId: $BOB) { user { id } errors { code } } }",
        id="unfollowUser",
    ),
    pytest.param(
        "likeTweet",
        "mutation { likeTweet(tweetId: $ALICE_TWEET) { tweet { id } errors { code } } }",
        id="likeTweet",
    ),
    pytest.param(
        "unlikeTweet",
        "mutation { unlikeTweet(tweetId: $BOB_TWEET) { tweet { id } errors { code } } }",
        id="unlikeTweet",
    ),
    pytest.param(
        "deleteTweet",
        "mutation { deleteTweet(id: $BOB_TWEET) { deletedId errors { code } } }",
        id="deleteTweet",
    ),
    pytest.param(
        "updateProfile",
        'mutation { updateProfile(displayName: "Hacked", bio: "pwned") { user { id } errors { code } } }',
        id="updateProfile",
    ),
]


def fill_ids(document: str, world: World) -> str:
    """Put the world's real ids in a document, so only the missing token can make it fail."""
    return (
        document.replace("$BOB_TWEET", json.dumps(world.bob_tweet))
        .replace("$ALICE_TWEET", json.dumps(world.alice_tweet))
        .replace("$BOB", json.dumps(world.bob.id))
    )


def bad_authorizations(world: World) -> list[tuple[str, str, str]]:
    """(case, Authorization header, word the message must contain)."""
    good = world.alice.token
    now = time.time()
    return [
        ("signature changed", f"Bearer {with_changed_signature(good)}", "token"),
        (
            "payload changed to another user",
            f"Bearer {with_changed_subject(good, world.bob.id)}",
            "token",
        ),
        (
            "signed with another secret",
            "Bearer "
            + Tokens("another-secret-key-of-32-characters-or-more", 3600).issue(
                int(world.alice.id)
            ),
            "token",
        ),
        (
            "unsigned (alg none)",
            "Bearer "
            + jwt.encode(
                {"sub": world.alice.id, "iat": int(now), "exp": int(now) + 3600, "iss": "chirp"},
                None,
                algorithm="none",
            ),
            "token",
        ),
        (
            "expired",
            f"Bearer {Tokens(SECRET, 60).issue(int(world.alice.id), now=now - 3600)}",
            "expired",
        ),
        ("not a JWT", "Bearer a.b.c", "token"),
        ("random text", "Bearer hello", "token"),
        ("scheme only", "Bearer", "Bearer"),
        ("basic auth", "Basic YWxpY2U6cGFzc3dvcmQ=", "Bearer"),
        ("other scheme", "Basic x", "Bearer"),
        ("token without scheme", good, "Bearer"),
    ]


class TestAuthRequired:
    @pytest.mark.parametrize(("field", "document"), AUTH_FIELDS)
    async def test_without_a_token_it_is_unauthenticated_and_nothing_is_written(
        self, gql: GraphQLClient, settings: Settings, world: World, field: str, document: str
    ) -> None:
        before = await state(gql, world)
        _, body = await post(gql.http, fill_ids(document, world))
        message = unauthenticated_error(body, field)
        assert "Bearer" in message  # tells the client what to send
        assert await state(gql, world) == before
        assert count_rows(settings, "tweets.sqlite3", "tweets") == 2  # no tweet by nobody

    @pytest.mark.parametrize(("field", "document"), AUTH_FIELDS)
    async def test_with_a_token_it_is_allowed(
        self, gql: GraphQLClient, world: World, field: str, document: str
    ) -> None:
        # alice may like her own tweet, and bob's tweet is deletable only by bob.
        token = world.bob.token if field == "deleteTweet" else world.alice.token
        _, body = await post(gql.http, fill_ids(document, world), headers=bearer(token))
        assert "errors" not in body, body
        result = body["data"][field]
        if isinstance(result, dict) and "errors" in result:
            assert result["errors"] == [], result

    async def test_the_bearer_scheme_is_case_insensitive(
        self, gql: GraphQLClient, world: World
    ) -> None:
        for scheme in ("bearer", "BEARER"):
            _, body = await post(
                gql.http,
                "{ me { id } }",
                headers={"Authorization": f"{scheme} {world.alice.token}"},
            )
            assert answer(body) == {"data": {"me": {"id": world.alice.id}}}

    async def test_public_fields_work_without_a_token(
        self, gql: GraphQLClient, world: World
    ) -> None:
        _, body = await post(
            gql.http,
            'query($id: ID!) { user(handle: "bob") { handle viewerFollows followsViewer } '
            "tweet(id: $id) { text viewerHasLiked } }",
            {"id": world.bob_tweet},
        )
        assert answer(body) == {
            "data": {
                "user": {"handle": "bob", "viewerFollows": False, "followsViewer": False},
                "tweet": {"text": "bob was here", "viewerHasLiked": False},
            }
        }


class TestBadTokens:
    async def test_each_bad_token_is_unauthenticated_with_a_helpful_message(
        self, gql: GraphQLClient, world: World
    ) -> None:
        for case, authorization, hint in bad_authorizations(world):
            _, body = await post(
                gql.http, "{ me { id } }", headers={"Authorization": authorization}
            )
            message = unauthenticated_error(body, "me")
            assert hint.lower() in message.lower(), (case, message)
            assert body["data"] == {"me": None}, case

    async def test_a_bad_token_writes_nothing(self, gql: GraphQLClient, world: World) -> None:
        before = await state(gql, world)
        for case, authorization, _ in bad_authorizations(world):
            for field, document in [
                (
                    "createTweet",
                    'mutation { createTweet(input: {text: "forged"}) { tweet { id } } }',
                ),
                (
                    "deleteTweet",
                    f"mutation {{ deleteTweet(id: {json.dumps(world.alice_tweet)}) {{ deletedId }} }}",
                ),
                ("updateProfile", 'mutation { updateProfile(bio: "forged") { user { id } } }'),
                (
                    "unfollowUser",
                    f"mutation {{ unfollowUser(userId: {json.dumps(world.bob.id)}) {{ user {{ id }} }} }}",
                ),
            ]:
                _, body = await post(gql.http, document, headers={"Authorization": authorization})
                assert body.get("errors"), (case, body)
                unauthenticated_error(body, field)
        assert await state(gql, world) == before

    async def test_the_expired_message_differs_from_the_invalid_one(
        self, gql: GraphQLClient, world: World
    ) -> None:
        """Clients can tell 'log in again' from 'this token is broken'."""
        expired = Tokens(SECRET, 60).issue(int(world.alice.id), now=time.time() - 3600)
        _, body = await post(gql.http, "{ me { id } }", headers=bearer(expired))
        expired_message = unauthenticated_error(body, "me")
        _, body = await post(gql.http, "{ me { id } }", headers=bearer("a.b.c"))
        invalid_message = unauthenticated_error(body, "me")
        assert "log in" in expired_message.lower()
        assert expired_message != invalid_message

    async def test_a_token_for_an_account_that_does_not_exist_cannot_post(
        self, gql: GraphQLClient, settings: Settings
    ) -> None:
        """A correctly signed token whose user is gone (e.g. the data folder was reset
        while CHIRP_SECRET_KEY stayed the same) must not act as a signed-in user."""
        ghost = Tokens(SECRET, 3600).issue(123456789)
        query = 'mutation { createTweet(input: {text: "from nobody"}) { tweet { id } errors { code } } }'
        response = await gql.http.post("/graphql", json={"query": query}, headers=bearer(ghost))
        body = await response.json()
        assert count_rows(settings, "tweets.sqlite3", "tweets") == 0, body
        unauthenticated_error(body, "createTweet")

    async def test_me_with_a_token_for_an_account_that_does_not_exist_is_unauthenticated(
        self, gql: GraphQLClient
    ) -> None:
        ghost = Tokens(SECRET, 3600).issue(123456789)
        _, body = await post(gql.http, "{ me { id } }", headers=bearer(ghost))
        unauthenticated_error(body, "me")

    async def test_tokens_expire_after_the_configured_lifetime(
        self, make_client: AppFactory
    ) -> None:
        client = await make_client(token_ttl_seconds=90)
        token, _ = await client.sign_up("alice")
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 90


# --- profile -----------------------------------------------------------------------------------

UPDATE_PROFILE = """
mutation($name: String, $bio: String) {
  updateProfile(displayName: $name, bio: $bio) {
    user { id handle displayName bio }
    errors { code field message }
  }
}
"""
PROFILE = '{ user(handle: "alice") { displayName bio } }'


class TestUpdateProfile:
    async def test_it_changes_display_name_and_bio(self, gql: GraphQLClient) -> None:
        token, user_id = await gql.sign_up("alice")
        data = await gql.ok(UPDATE_PROFILE, {"name": "Alice A.", "bio": "I chirp."}, token)
        assert data["updateProfile"] == {
            "user": {
                "id": user_id,
                "handle": "alice",
                "displayName": "Alice A.",
                "bio": "I chirp.",
            },
            "errors": [],
        }
        assert await gql.ok(PROFILE) == {"user": {"displayName": "Alice A.", "bio": "I chirp."}}

    async def test_omitted_fields_are_kept_and_an_empty_bio_clears_it(
        self, gql: GraphQLClient
    ) -> None:
        token, _ = await gql.sign_up("alice")
        await gql.ok(UPDATE_PROFILE, {"name": "Alice A.", "bio": "I chirp."}, token)
        await gql.ok(UPDATE_PROFILE, {"bio": "Still chirping."}, token)
        assert await gql.ok(PROFILE) == {
            "user": {"displayName": "Alice A.", "bio": "Still chirping."}
        }
        await gql.ok(UPDATE_PROFILE, {"name": "Al"}, token)
        assert await gql.ok(PROFILE) == {"user": {"displayName": "Al", "bio": "Still chirping."}}
        await gql.ok(UPDATE_PROFILE, {"bio": ""}, token)
        assert await gql.ok(PROFILE) == {"user": {"displayName": "Al", "bio": ""}}

    async def test_the_longest_allowed_values_are_accepted(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        data = await gql.ok(UPDATE_PROFILE, {"name": "n" * 50, "bio": "b" * 160}, token)
        assert data["updateProfile"]["errors"] == []

    @pytest.mark.parametrize(
        ("variables", "expected"),
        [
            pytest.param({"name": "n" * 51}, {("TOO_LONG", "displayName")}, id="long-name"),
            pytest.param({"bio": "b" * 161}, {("TOO_LONG", "bio")}, id="long-bio"),
            pytest.param(
                {"name": "n" * 51, "bio": "b" * 161},
                {("TOO_LONG", "displayName"), ("TOO_LONG", "bio")},
                id="both-long",
            ),
            pytest.param({"name": ""}, {("EMPTY", "displayName")}, id="empty-name"),
            pytest.param({"name": "   "}, {("EMPTY", "displayName")}, id="blank-name"),
            pytest.param(
                {"name": "", "bio": "fine bio"},
                {("EMPTY", "displayName")},
                id="empty-name-good-bio",
            ),
        ],
    )
    async def test_invalid_values_are_refused_and_nothing_changes(
        self, gql: GraphQLClient, variables: Json, expected: set[tuple[str, str]]
    ) -> None:
        token, _ = await gql.sign_up("alice")
        await gql.ok(UPDATE_PROFILE, {"name": "Alice", "bio": "Original."}, token)
        data = await gql.ok(UPDATE_PROFILE, variables, token)
        payload = data["updateProfile"]
        assert payload["user"] is None
        assert {(e["code"], e["field"]) for e in payload["errors"]} == expected
        assert all(e["message"] for e in payload["errors"])
        assert await gql.ok(PROFILE) == {"user": {"displayName": "Alice", "bio": "Original."}}


# --- restarts ------------------------------------------------------------------------------------


class TestRestart:
    @pytest.mark.parametrize(
        "secret_key",
        [
            pytest.param(SECRET, id="configured-secret"),
            pytest.param("", id="generated-secret-in-data-dir"),
        ],
    )
    async def test_a_token_keeps_working_after_a_restart_on_the_same_data(
        self, make_client: AppFactory, settings: Settings, secret_key: str
    ) -> None:
        first = await make_client(secret_key=secret_key)
        token, user_id = await first.sign_up("alice", PASSWORD)
        tweet_id = await first.tweet(token, "before the restart")
        await first.http.close()  # stops the app and closes its stores

        second = await make_client(secret_key=secret_key)
        data = await second.ok("{ me { id handle tweetsCount } }", token=token)
        assert data == {"me": {"id": user_id, "handle": "alice", "tweetsCount": 1}}
        posted = await second.tweet(token, "after the restart")
        assert int(posted) > int(tweet_id)
        login = await second.ok(
            "mutation($i: LogInInput!) { logIn(input: $i) { user { id } errors { code } } }",
            {"i": {"handle": "alice", "password": PASSWORD}},
        )
        assert login["logIn"] == {"user": {"id": user_id}, "errors": []}
        if not secret_key:
            assert (Path(settings.data_dir) / "secret.key").exists()
