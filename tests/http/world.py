"""A small world for the authorization matrix and the fuzzer.

alice owns things: a tweet, a READY photo not yet attached to any tweet, an upload
whose bytes arrived but which she has not completed, and an app with its key. bob
is another signed-in user; carol is a third, whom nobody follows (a target that is
neither of them). Anonymous callers send no token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tests.conftest import GraphQLClient
from tests.media import MediaApp, image_bytes

Json = dict[str, Any]
Actor = Literal["owner", "other", "anonymous"]
PASSWORD = "correct horse"

REGISTER_APP = """mutation($name: String!) {
  registerApp(name: $name) { app { id } key errors { code } } }"""


@dataclass(frozen=True)
class Person:
    handle: str
    token: str
    id: str


@dataclass
class World:
    gql: GraphQLClient
    alice: Person
    bob: Person
    carol: Person
    tweet: str  # alice's
    photo: str  # alice's, READY, attached to nothing
    upload: str  # alice's, bytes PUT, not completed: not an object yet
    app: str  # alice's
    key: str  # her app's API key
    made: dict[str, str] = field(default_factory=dict)  # what a row's set-up created

    def person(self, actor: Actor) -> Person | None:
        """alice is the owner, bob the other user; anonymous is nobody."""
        return {"owner": self.alice, "other": self.bob, "anonymous": None}[actor]

    def token(self, actor: Actor) -> str | None:
        person = self.person(actor)
        return person.token if person else None

    def ids(self) -> list[str]:
        """Every id of the world, for the fuzzer to aim at."""
        people = (self.alice, self.bob, self.carol)
        return [p.id for p in people] + [self.tweet, self.photo, self.upload, self.app]


async def sign_up(gql: GraphQLClient, handle: str) -> Person:
    token, user_id = await gql.sign_up(handle, PASSWORD)
    return Person(handle, token, user_id)


async def build_world(gql: GraphQLClient) -> World:
    alice = await sign_up(gql, "alice")
    bob = await sign_up(gql, "bob")
    carol = await sign_up(gql, "carol")
    tweet = await gql.tweet(alice.token, "alice's tweet #chirp")

    media = MediaApp(gql, "embedded")
    photo = (await media.upload(alice.token, image_bytes()))["id"]
    data = image_bytes(size=(32, 24))
    created = await media.create_upload(alice.token, "image/png", len(data))
    assert created["errors"] == [], created
    status, text = await media.put(created["upload"], data)
    assert status == 200, text
    upload = created["upload"]["media"]["id"]

    registered = (await gql.ok(REGISTER_APP, {"name": "alice's app"}, alice.token))["registerApp"]
    assert registered["errors"] == [], registered
    return World(
        gql,
        alice,
        bob,
        carol,
        tweet=tweet,
        photo=photo,
        upload=upload,
        app=registered["app"]["id"],
        key=registered["key"],
    )
