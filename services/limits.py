"""Rate limits: who pays for a request, how much, and what happens over a limit.

Every GraphQL operation is charged its query cost in points (schema/execution/
cost.py) to one budget: the signed-in user's, or, for anonymous calls, the
client IP's (IPv6 addresses grouped by /64, as one host usually holds a whole
/64). A request that names an app (``X-Api-Key``) is also charged to the app's
hourly quota, all its users together. Actions that attackers repeat have
budgets of their own, counted in attempts: sign-up per IP, log-in per IP and
per handle (so a password-guessing loop stops whatever addresses it uses),
media uploads and deletes per user.

Safelisted addresses (loopback by default, as Mastodon does) are not charged
and never refused; their answers report the full budget. The per-handle log-in
budget applies to them too: it protects an account, not the server.

When the limiter's store is down, limits fail open for operations (a cached
home page should not fail because Redis did) and stay as strict as this
process can be for sign-up and log-in: those fall back to an in-process
limiter, so a guessing loop is still stopped on each instance.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.errors import RateLimited
from throttle.memory import MemoryLimiter
from throttle.port import Limiter, LimiterUnavailable, Rule, Verdict

log = logging.getLogger("chirp.limits")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
APP_PERIOD_SECONDS = 3600


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (a bare address is its own /32 or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


USER = Rule("user", 15_000, 300)
ANONYMOUS = Rule("ip", 3_000, 300)
SIGN_UP = Rule("sign_up", 5, 1800)
LOG_IN = Rule("log_in", 25, 300)
UPLOAD = Rule("upload", 30, 1800)
DELETE = Rule("delete", 30, 1800)
CONNECT = Rule("connect", 60, 300)  # WebSocket connections per IP
LOOPBACK = parse_networks("127.0.0.0/8,::1/128")


@dataclass(frozen=True)
class Budgets:
    """The rules, per kind of caller and action. Defaults: README "Rate limits"."""

    user: Rule = USER
    anonymous: Rule = ANONYMOUS
    sign_up: Rule = SIGN_UP
    log_in: Rule = LOG_IN
    upload: Rule = UPLOAD
    delete: Rule = DELETE
    connect: Rule = CONNECT
    safelist: tuple[Network, ...] = LOOPBACK
    subscriptions: int = 20  # open subscriptions per user (or anonymous address), per instance


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: the user (if signed in), the app (if any), the client IP."""

    ip: str
    user_id: int | None = None
    app_id: int | None = None
    app_quota: int | None = None  # points per hour


class RateLimits:
    def __init__(
        self,
        limiter: Limiter,
        budgets: Budgets | None = None,
        fallback: Limiter | None = None,
        trusted_proxies: tuple[Network, ...] = (),
    ) -> None:
        self.limiter = limiter
        self.budgets = budgets or Budgets()
        self.trusted_proxies = trusted_proxies  # whose X-Forwarded-For is believed
        self.open_subscriptions: dict[str, int] = {}
        self.fallback = fallback or MemoryLimiter()
        self._warned = 0.0

    def safelisted(self, ip: str) -> bool:
        """Whether ``ip`` is never limited; a caller with no address runs in process."""
        return not ip or within(ip, self.budgets.safelist)

    async def charge(self, caller: Caller, points: int) -> Verdict:
        """Charge an operation's ``points``; the verdict of the tightest budget charged.

        Raises RateLimited (spending nothing more) when a budget cannot pay.
        """
        if caller.user_id is not None:
            rule, who = self.budgets.user, str(caller.user_id)
        else:
            rule, who = self.budgets.anonymous, client_key(caller.ip)
        if self.safelisted(caller.ip):
            return Verdict.whole(rule)
        verdict = await self._hit(rule, who, points, strict=False)
        self._refuse(verdict, "this account" if caller.user_id is not None else "this address")
        if caller.app_id is not None and caller.app_quota is not None:
            app_rule = Rule("app", max(1, caller.app_quota), APP_PERIOD_SECONDS)
            app = await self._hit(app_rule, str(caller.app_id), points, strict=False)
            self._refuse(app, "this app's key")
            if app.remaining < verdict.remaining:
                verdict = app
        return verdict

    async def attempt(
        self,
        action: str,
        caller: Caller,
        subjects: Sequence[str] = (),
        *,
        per_ip: bool = True,
        protects_subject: bool = False,
    ) -> None:
        """One attempt at a throttled action (``Budgets`` names them), per IP and per subject.

        Safelisted addresses are not counted, except against a budget that
        ``protects_subject`` (log-in's per handle: it guards an account).
        """
        rule: Rule = getattr(self.budgets, action)
        safe = self.safelisted(caller.ip)
        keys = [f"ip:{client_key(caller.ip)}"] if per_ip and not safe else []
        if protects_subject or not safe:
            keys += [f"of:{subject}" for subject in subjects]
        for who in keys:
            self._refuse(await self._hit(rule, who, 1, strict=True), "this action")

    @contextlib.contextmanager
    def subscription(self, caller: Caller) -> Iterator[None]:
        """Hold one of the caller's open subscriptions (RateLimited when all are taken)."""
        if self.safelisted(caller.ip):
            yield
            return
        who = f"user:{caller.user_id}" if caller.user_id is not None else client_key(caller.ip)
        held = self.open_subscriptions.get(who, 0)
        if held >= self.budgets.subscriptions:
            raise RateLimited(
                f"At most {self.budgets.subscriptions} subscriptions may be open at once; "
                "close one first.",
                1.0,
            )
        self.open_subscriptions[who] = held + 1
        try:
            yield
        finally:
            left = self.open_subscriptions.get(who, 1) - 1
            if left > 0:
                self.open_subscriptions[who] = left
            else:
                self.open_subscriptions.pop(who, None)

    async def _hit(self, rule: Rule, who: str, cost: int, *, strict: bool) -> Verdict:
        try:
            return await self.limiter.hit(rule, who, cost)
        except LimiterUnavailable as exc:
            now = time.monotonic()
            if now - self._warned > 10:  # one line per 10 s, not one per request
                self._warned = now
                log.warning("rate limiter unavailable (%s); %s", exc, "in-process limits")
            if strict:
                return await self.fallback.hit(rule, who, cost)
            return Verdict.whole(rule)

    @staticmethod
    def _refuse(verdict: Verdict, whose: str) -> None:
        if not verdict.allowed:
            seconds = max(1, round(verdict.retry_after + 0.5))
            raise RateLimited(
                f"Rate limit reached for {whose} ({verdict.limit} per {verdict.rule.period} s "
                f"under '{verdict.rule.name}'); try again in {seconds} s.",
                verdict.retry_after,
            )

    async def close(self) -> None:
        await self.limiter.close()
        await self.fallback.close()


def within(ip: str, networks: Sequence[Network]) -> bool:
    """Whether the address ``ip`` (IPv4-mapped IPv6 read as IPv4) is in one of ``networks``."""
    address = _address(ip)
    return address is not None and any(address in net for net in networks)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_key(ip: str) -> str:
    """The budget key of an address: IPv4 as it is, IPv6 by its /64."""
    address = _address(ip)
    if address is None:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)
