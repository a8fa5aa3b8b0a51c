"""Ids in arguments: decimal snowflake strings."""

from __future__ import annotations

from core.errors import BadUserInput, UserError
from core.ids import parse_id


def query_id(raw: str, argument: str = "id") -> int:
    """An id argument of a query: malformed is a BAD_USER_INPUT error."""
    value = parse_id(raw)
    if value is None:
        raise BadUserInput(f"`{argument}` is not a valid id: ids are decimal strings.")
    return value


def mutation_id(raw: str, field: str) -> int:
    """An id argument of a mutation: malformed is a UserError (INVALID_ID) in the payload."""
    value = parse_id(raw)
    if value is None:
        raise UserError("INVALID_ID", f"`{field}` is not a valid id.", field)
    return value
