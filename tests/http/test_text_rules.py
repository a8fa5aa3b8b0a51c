"""Text rules through the API (issue 12): direction controls and invisible-only text.

The rules these tests pin down (core/text.py has the reasoning):

- A display name refuses every explicit direction control (overrides, embeddings,
  isolates): INVALID_CHARACTERS on ``displayName``, and no account is made.
- A tweet or bio refuses the overrides, U+FEFF/U+FFFE/U+FFFF, and embeddings or
  isolates left unclosed on their line: INVALID_CHARACTERS, nothing stored.
- Text of only invisible characters is empty, as whitespace-only text is: EMPTY for a
  tweet or a new display name, no bio, the handle for a name left blank at sign-up.
- Emoji ZWJ sequences, ZWNJ in Persian, direction marks and closed isolates are
  accepted exactly as written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient

Json = dict[str, Any]

SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { token user { handle displayName bio } errors { code message field } }
}"""
UPDATE_PROFILE = """mutation($name: String, $bio: String) {
  updateProfile(displayName: $name, bio: $bio) {
    user { displayName bio }
    errors { code message field }
  }
}"""
CREATE = """mutation($t: String!) {
  createTweet(input: {text: $t}) {
    tweet { id text links { expandedUrl } }
    errors { code message field }
  }
}"""
PROFILE = "query($h: String!) { user(handle: $h) { displayName bio tweetsCount tweets { edges { node { text } } } } }"

RLO, PDF, RLI, PDI = "\u202e", "\u202c", "\u2067", "\u2069"
SPOOFED_NAME = f"Admin{RLO}gnp.exe"  # shows as "Adminexe.png"
WOMAN_TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"
PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a ZWNJ
ARABIC = "\u0645\u0631\u062d\u0628\u0627"


async def sign_up(gql: GraphQLClient, **fields: str) -> Json:
    data = await gql.ok(SIGN_UP, {"input": {"password": "correct horse", **fields}})
    payload: Json = data["signUp"]
    return payload


async def create(gql: GraphQLClient, token: str, text: str) -> Json:
    payload: Json = (await gql.ok(CREATE, {"t": text}, token))["createTweet"]
    return payload


async def profile(gql: GraphQLClient, handle: str) -> Json | None:
    user: Json | None = (await gql.ok(PROFILE, {"h": handle}))["user"]
    return user


def only_error(payload: Json) -> tuple[str, str]:
    [error] = payload["errors"]
    assert error["message"]
    return error["code"], error["field"]


# --- signing up ----------------------------------------------------------------------------------


async def test_a_display_name_with_a_direction_override_creates_no_account(
    gql: GraphQLClient,
) -> None:
    payload = await sign_up(gql, handle="admin", displayName=SPOOFED_NAME)
    assert (payload["token"], payload["user"]) == (None, None)
    assert only_error(payload) == ("INVALID_CHARACTERS", "displayName")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in payload["errors"][0]["message"]
    assert await profile(gql, "admin") is None
    # the handle was not taken by the refused attempt
    again = await sign_up(gql, handle="admin", displayName="Admin")
    assert again["errors"] == []
    assert again["user"]["displayName"] == "Admin"


@pytest.mark.parametrize(
    "name",
    [f"{RLI}Admin{PDI}", f"Admin{PDF}", "Admin\u202a", "\u2066Admin"],
    ids=["paired-isolate", "stray-pdf", "lre", "lri"],
)
async def test_a_display_name_refuses_embeddings_and_isolates_too(
    gql: GraphQLClient, name: str
) -> None:
    payload = await sign_up(gql, handle="admin", displayName=name)
    assert only_error(payload) == ("INVALID_CHARACTERS", "displayName")
    assert await profile(gql, "admin") is None


async def test_every_refused_field_is_reported_together(gql: GraphQLClient) -> None:
    payload = await sign_up(gql, handle="admin", displayName=SPOOFED_NAME, bio=f"{RLI}unclosed")
    assert {(e["code"], e["field"]) for e in payload["errors"]} == {
        ("INVALID_CHARACTERS", "displayName"),
        ("INVALID_CHARACTERS", "bio"),
    }
    assert await profile(gql, "admin") is None


async def test_an_invisible_display_name_at_sign_up_falls_back_to_the_handle(
    gql: GraphQLClient,
) -> None:
    """As a blank one does: the name is optional at sign-up."""
    payload = await sign_up(gql, handle="ghost", displayName="\u3164\u200b", bio="\u2800\u200d")
    assert payload["errors"] == []
    assert payload["user"] == {"handle": "ghost", "displayName": "ghost", "bio": ""}


async def test_names_with_marks_and_joiners_are_kept_as_written(gql: GraphQLClient) -> None:
    name = f"{PERSIAN}\u200f {WOMAN_TECHNOLOGIST}"
    payload = await sign_up(gql, handle="coder", displayName=name, bio=f"{RLI}{ARABIC}{PDI} hi")
    assert payload["errors"] == []
    assert payload["user"]["displayName"] == name
    assert payload["user"]["bio"] == f"{RLI}{ARABIC}{PDI} hi"


# --- updating a profile --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        pytest.param({"name": SPOOFED_NAME}, ("INVALID_CHARACTERS", "displayName"), id="override"),
        pytest.param({"name": "\u200b\u200b"}, ("EMPTY", "displayName"), id="zero-width-name"),
        pytest.param({"name": "\u3164"}, ("EMPTY", "displayName"), id="hangul-filler-name"),
        pytest.param({"bio": f"{RLI}{ARABIC}"}, ("INVALID_CHARACTERS", "bio"), id="unclosed"),
        pytest.param({"bio": "a\ufeffb"}, ("INVALID_CHARACTERS", "bio"), id="bom-in-bio"),
    ],
)
async def test_a_refused_profile_change_changes_nothing(
    gql: GraphQLClient, variables: Json, expected: tuple[str, str]
) -> None:
    token, _ = await gql.sign_up("alice")
    await gql.ok(UPDATE_PROFILE, {"name": "Alice", "bio": "Original."}, token)
    payload = (await gql.ok(UPDATE_PROFILE, variables, token))["updateProfile"]
    assert payload["user"] is None
    assert only_error(payload) == expected
    user = await profile(gql, "alice")
    assert user is not None
    assert (user["displayName"], user["bio"]) == ("Alice", "Original.")


async def test_an_invisible_bio_clears_it(gql: GraphQLClient) -> None:
    token, _ = await gql.sign_up("alice")
    await gql.ok(UPDATE_PROFILE, {"bio": "Original."}, token)
    payload = (await gql.ok(UPDATE_PROFILE, {"bio": "\u200b \u2800"}, token))["updateProfile"]
    assert payload == {"user": {"displayName": "alice", "bio": ""}, "errors": []}


# --- tweets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("\u200b\u200b", "EMPTY", id="zero-width-spaces"),
        pytest.param("\u3164 \u2800", "EMPTY", id="fillers"),
        pytest.param("\u0301\ufe0f", "EMPTY", id="marks-alone"),
        pytest.param(f"see {SPOOFED_NAME}", "INVALID_CHARACTERS", id="override"),
        pytest.param(f"{RLI}{ARABIC}", "INVALID_CHARACTERS", id="unclosed-isolate"),
        pytest.param("\ufeffhello", "INVALID_CHARACTERS", id="bom"),
        pytest.param("hello\uffff", "INVALID_CHARACTERS", id="noncharacter"),
    ],
)
async def test_a_refused_tweet_stores_nothing(gql: GraphQLClient, text: str, code: str) -> None:
    token, _ = await gql.sign_up("alice")
    payload = await create(gql, token, text)
    assert payload["tweet"] is None
    assert only_error(payload) == (code, "text")
    await gql.settle()
    assert await profile(gql, "alice") == {
        "displayName": "alice",
        "bio": "",
        "tweetsCount": 0,
        "tweets": {"edges": []},
    }


@pytest.mark.parametrize(
    "text",
    [
        WOMAN_TECHNOLOGIST,
        f"{WOMAN_TECHNOLOGIST} shipping today",
        PERSIAN,
        f"I said {RLI}{ARABIC}{PDI} to everyone",
        "\u05e9\u05dc\u05d5\u05dd\u200f 2024",
    ],
    ids=["emoji-zwj", "emoji-zwj-with-text", "persian-zwnj", "closed-isolate", "rlm"],
)
async def test_joiners_marks_and_closed_isolates_are_posted_as_written(
    gql: GraphQLClient, text: str
) -> None:
    token, _ = await gql.sign_up("alice")
    payload = await create(gql, token, text)
    assert payload["errors"] == []
    assert payload["tweet"]["text"] == text
    user = await profile(gql, "alice")
    assert user is not None
    assert user["tweetsCount"] == 1
    assert user["tweets"]["edges"] == [{"node": {"text": text}}]


async def test_a_link_inside_an_isolate_is_shortened_and_the_isolate_stays_closed(
    gql: GraphQLClient,
) -> None:
    token, _ = await gql.sign_up("alice")
    payload = await create(gql, token, f"{ARABIC} {RLI}https://example.com/page{PDI}")
    assert payload["errors"] == []
    tweet = payload["tweet"]
    assert tweet["links"] == [{"expandedUrl": "https://example.com/page"}]
    assert tweet["text"].startswith(f"{ARABIC} {RLI}https://chirp.test/l/")
    assert tweet["text"].endswith(PDI)
