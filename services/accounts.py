"""Accounts: signing up, logging in, profiles, and looking users up."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from core.errors import UserError, UserErrors
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import NewUser, UserRecord
from core.security import Passwords, Tokens
from core.text import validate_bio, validate_display_name, validate_handle, validate_password
from graph.port import HandleTakenError, SocialGraph


def _check(errors: list[UserError], validate: Callable[[str], str], value: str) -> str:
    """Run one validator, collecting its UserError so all fields are reported together."""
    try:
        return validate(value)
    except UserError as exc:
        errors.append(exc)
        return value


class AccountService:
    def __init__(
        self, graph: SocialGraph, ids: SnowflakeGenerator, passwords: Passwords, tokens: Tokens
    ) -> None:
        self.graph = graph
        self.ids = ids
        self.passwords = passwords
        self.tokens = tokens

    async def sign_up(
        self, handle: str, password: str, display_name: str | None, bio: str | None
    ) -> tuple[str, UserRecord]:
        errors: list[UserError] = []
        clean_handle = _check(errors, validate_handle, handle)
        _check(errors, validate_password, password)
        clean_name = _check(errors, validate_display_name, display_name or "")
        clean_bio = _check(errors, validate_bio, bio or "")
        if errors:
            raise UserErrors(errors)
        taken = UserError("HANDLE_TAKEN", f"The handle @{clean_handle} is taken.", "handle")
        if await self.graph.get_users_by_handles([clean_handle.lower()]):
            raise taken
        user_id = self.ids.next_id()
        try:
            user = await self.graph.create_user(
                NewUser(
                    id=user_id,
                    handle=clean_handle,
                    display_name=clean_name or clean_handle,
                    bio=clean_bio,
                    created_at_ms=id_timestamp_ms(user_id),
                    password_hash=await self.passwords.hash(password),
                )
            )
        except HandleTakenError:
            raise taken from None
        return self.tokens.issue(user.id), user

    async def log_in(self, handle: str, password: str) -> tuple[str, UserRecord]:
        invalid = UserError("INVALID_CREDENTIALS", "That handle and password do not match.")
        credentials = await self.graph.get_credentials(handle.strip().lower())
        ok = await self.passwords.verify(
            credentials.password_hash if credentials else None, password
        )
        if not ok or credentials is None:
            raise invalid
        users = await self.graph.get_users([credentials.user_id])
        if credentials.user_id not in users:
            raise invalid
        return self.tokens.issue(credentials.user_id), users[credentials.user_id]

    async def update_profile(
        self, viewer_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord:
        errors: list[UserError] = []
        name = None if display_name is None else _check(errors, validate_display_name, display_name)
        clean_bio = None if bio is None else _check(errors, validate_bio, bio)
        if name == "":
            errors.append(UserError("EMPTY", "A display name cannot be empty.", "displayName"))
        if errors:
            raise UserErrors(errors)
        user = await self.graph.update_profile(viewer_id, name, clean_bio)
        if user is None:
            raise UserError("NOT_FOUND", "Your account no longer exists.")
        return user

    async def users(self, ids: Sequence[int]) -> dict[int, UserRecord]:
        """Users by id; unknown ids are absent."""
        return await self.graph.get_users(ids)

    async def users_by_handles(self, handles_lower: Sequence[str]) -> dict[str, UserRecord]:
        """Users by lower-cased handle; unknown handles are absent."""
        return await self.graph.get_users_by_handles(handles_lower)


class RecentIds:
    """Ids seen within the last ``ttl`` seconds; at most ``size`` of them are kept."""

    def __init__(self, ttl: float = 60.0, size: int = 100_000) -> None:
        self.ttl = ttl
        self.size = size
        self._until: OrderedDict[int, float] = OrderedDict()

    def __contains__(self, item: int) -> bool:
        until = self._until.get(item)
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[item]
            return False
        return True

    def add(self, item: int) -> None:
        self._until[item] = time.monotonic() + self.ttl
        self._until.move_to_end(item)
        while len(self._until) > self.size:
            self._until.popitem(last=False)
