"""Resolvers for accounts: signing up, logging in, the profile, users by handle."""

from __future__ import annotations

from core.models import UserRecord
from core.text import HANDLE_RE
from resolvers.context import Context


async def sign_up(
    ctx: Context, handle: str, password: str, display_name: str | None, bio: str | None
) -> tuple[str, UserRecord]:
    await ctx.attempt("sign_up")
    return await ctx.services.accounts.sign_up(handle, password, display_name, bio)


async def log_in(ctx: Context, handle: str, password: str) -> tuple[str, UserRecord]:
    await ctx.attempt("log_in", [handle.strip().lower()], protects_subject=True)
    return await ctx.services.accounts.log_in(handle, password)


async def update_profile(ctx: Context, display_name: str | None, bio: str | None) -> UserRecord:
    return await ctx.services.accounts.update_profile(await ctx.require_viewer(), display_name, bio)


async def user_by_handle(ctx: Context, handle: str) -> UserRecord | None:
    handle = handle.strip().removeprefix("@")
    if not HANDLE_RE.fullmatch(handle):
        return None
    return await ctx.loaders.users_by_handle.load(handle.lower())


async def me(ctx: Context) -> UserRecord | None:
    return await ctx.loaders.users.load(await ctx.require_viewer())
