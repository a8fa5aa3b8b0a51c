"""The exported SDL at the repository root is the schema the code serves."""

import schema


def test_schema_graphql_is_up_to_date() -> None:
    on_disk = schema.SDL_PATH.read_text(encoding="utf-8")
    assert on_disk == schema.export_sdl(), "schema.graphql is stale: run `make schema`"
