"""The per-request context: the viewer, the services, and this request's DataLoaders."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import RateLimited, Unauthenticated
from core.security import InvalidToken
from resolvers.loaders import Loaders
from services.container import Services
from services.limits import Caller
from throttle.port import Verdict


def _viewer(services: Services, authorization: str | None) -> tuple[int | None, str | None]:
    """(viewer id, None) for a valid bearer token; (None, why) for a refused one."""
    if not authorization:
        return None, None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, "Send the token as Authorization: Bearer <token>."
    try:
        return services.tokens.verify(token.strip()).user_id, None
    except InvalidToken as exc:
        return None, str(exc)


@dataclass
class Context:
    services: Services
    viewer_id: int | None = None
    auth_error: str | None = None  # why a sent token was refused
    idempotency_key: str | None = None
    # set by strawberry from a WebSocket's connection_init payload
    connection_params: dict[str, object] | None = None
    client_ip: str = ""
    app_id: int | None = None
    app_quota: int | None = None  # points per hour of the app named by X-Api-Key
    api_key: str | None = None  # a WebSocket's X-Api-Key header, checked at connection_init
    # the budget this request was charged to, after the charge (or its refusal)
    budget: Verdict | None = None
    cost: int = 0  # points this request was charged
    retry_after: float | None = None  # set when a limit refused this request
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.services, self.viewer_id)

    def fresh_loaders(self) -> None:
        """New DataLoaders: a subscription's context lives as long as its connection."""
        self.loaders = Loaders(self.services, self.viewer_id)

    def authenticate(self, authorization: str | None) -> None:
        """Take the viewer from an Authorization value (a header, or connection_init)."""
        self.viewer_id, self.auth_error = _viewer(self.services, authorization)
        self.fresh_loaders()

    @classmethod
    def for_request(
        cls, services: Services, authorization: str | None, idempotency_key: str | None = None
    ) -> Context:
        """Context for one request, from its Authorization and Idempotency-Key headers."""
        viewer_id, auth_error = _viewer(services, authorization)
        return cls(services, viewer_id, auth_error, idempotency_key)

    @property
    def caller(self) -> Caller:
        return Caller(self.client_ip, self.viewer_id, self.app_id, self.app_quota)

    async def charge(self, points: int) -> Verdict | None:
        """Charge ``points`` to this request's budget (RateLimited when it cannot pay)."""
        self.cost = points
        limits = self.services.limits
        if limits is None:
            return None
        try:
            self.budget = await limits.charge(self.caller, points)
        except RateLimited as exc:
            self.retry_after = exc.retry_after
            raise
        return self.budget

    async def attempt(
        self,
        action: str,
        subjects: Sequence[str] = (),
        *,
        per_ip: bool = True,
        protects_subject: bool = False,
    ) -> None:
        """One attempt at an action with a budget of its own (RateLimited over it)."""
        if self.services.limits is not None:
            try:
                await self.services.limits.attempt(
                    action,
                    self.caller,
                    subjects,
                    per_ip=per_ip,
                    protects_subject=protects_subject,
                )
            except RateLimited as exc:
                self.retry_after = exc.retry_after
                raise

    @contextlib.contextmanager
    def subscription_slot(self) -> Iterator[None]:
        """One of the caller's open subscriptions, held while the block runs."""
        if self.services.limits is None:
            yield
            return
        with self.services.limits.subscription(self.caller):
            yield

    async def require_viewer(self) -> int:
        """The signed-in user's id, or an UNAUTHENTICATED error.

        A well-signed token is not enough: its account must exist (a data
        folder reset under an unchanged signing key leaves such tokens around).
        """
        if self.viewer_id is None:
            raise Unauthenticated(self.auth_error) if self.auth_error else Unauthenticated()
        known = self.services.known_accounts
        if self.viewer_id in known:
            return self.viewer_id
        if await self.loaders.users.load(self.viewer_id) is None:
            raise Unauthenticated("The account this token was issued for does not exist.")
        known.add(self.viewer_id)
        return self.viewer_id


async def meter(context: object, points: int) -> Verdict | None:
    """The schema's meter: charge an operation's cost to its caller's budget."""
    return await context.charge(points) if isinstance(context, Context) else None


async def document(
    context: object, query: str | None, extensions: dict[str, Any] | None
) -> str | None:
    """The schema's document source: the query text, or a persisted query's."""
    if not isinstance(context, Context):
        return query
    persisted = context.services.persisted
    if persisted is None:
        return query
    return await persisted.resolve(query, extensions)
