"""Errors the service raises on purpose.

``UserError`` is an expected problem with the caller's input or permissions;
mutations return it in their payload's ``errors`` list. ``ApiError`` becomes a
top-level GraphQL error carrying ``extensions.code`` (authentication, limits,
malformed arguments, an unavailable backend).
"""

from __future__ import annotations

import math


class UserError(Exception):
    """An expected problem, reported to the client as a ``UserError`` object."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"UserError({self.code!r}, {self.message!r}, field={self.field!r})"


class UserErrors(Exception):
    """Several UserErrors at once (e.g. every invalid field of one input)."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class ApiError(Exception):
    """A top-level GraphQL error with a machine-readable ``extensions.code``."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"

    def __init__(
        self, message: str = "Sign in to do this: send Authorization: Bearer <token>."
    ) -> None:
        super().__init__(message)


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"


class ServiceUnavailable(ApiError):
    """A backend store could not be reached; the request may be retried."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(
        self, message: str = "A backend service is unavailable; try again shortly."
    ) -> None:
        super().__init__(message)


class RateLimited(ApiError):
    """Over a rate limit: HTTP 429, ``Retry-After``, ``extensions.retryAfter`` (seconds)."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, object]:
        return {"retryAfter": max(1, math.ceil(self.retry_after))}
