from tests.conftest import GraphQLClient


async def test_sign_up_tweet_and_read_home(gql: GraphQLClient) -> None:
    token, user_id = await gql.sign_up("alice")
    tweet_id = await gql.tweet(token, "hello #World")
    data = await gql.ok(
        "{ homeTimeline { edges { node { id text hashtags author { id handle } } } } }",
        token=token,
    )
    nodes = [e["node"] for e in data["homeTimeline"]["edges"]]
    assert nodes == [
        {
            "id": tweet_id,
            "text": "hello #World",
            "hashtags": ["world"],
            "author": {"id": user_id, "handle": "alice"},
        }
    ]
