"""A tweet's location (the design brief's tweet_location) through the API, both ways of running."""

from __future__ import annotations

from tests.conftest import GraphQLClient

POST = """mutation($input: CreateTweetInput!) { createTweet(input: $input) {
  tweet { id location { latitude longitude } } errors { code field } } }"""
READ = "query($id: ID!) { tweet(id: $id) { location { latitude longitude } } }"


async def test_a_location_is_stored_and_returned(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    where = {"latitude": -33.8568, "longitude": 151.2153}
    made = (await chirp.ok(POST, {"input": {"text": "at the opera", "location": where}}, alice))[
        "createTweet"
    ]
    assert made["errors"] == []
    assert made["tweet"]["location"] == where
    assert (await chirp.ok(READ, {"id": made["tweet"]["id"]}))["tweet"]["location"] == where
    plain = (await chirp.ok(POST, {"input": {"text": "nowhere"}}, alice))["createTweet"]
    assert plain["tweet"]["location"] is None


async def test_an_out_of_range_location_names_its_field_and_stores_nothing(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    for where, field in (
        ({"latitude": 90.5, "longitude": 0}, "location.latitude"),
        ({"latitude": -91, "longitude": 0}, "location.latitude"),
        ({"latitude": 0, "longitude": 180.01}, "location.longitude"),
        ({"latitude": 0, "longitude": -200}, "location.longitude"),
    ):
        made = (await chirp.ok(POST, {"input": {"text": "where?", "location": where}}, alice))[
            "createTweet"
        ]
        assert made == {"tweet": None, "errors": [{"code": "INVALID_LOCATION", "field": field}]}
    for edge in ({"latitude": 90, "longitude": -180}, {"latitude": -90, "longitude": 180}):
        made = (await chirp.ok(POST, {"input": {"text": "the edge", "location": edge}}, alice))[
            "createTweet"
        ]
        assert made["tweet"]["location"] == edge
    count = await chirp.ok('{ user(handle: "alice") { tweetsCount } }')
    assert count["user"]["tweetsCount"] == 2
