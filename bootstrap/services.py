"""Building the services from the settings and the opened stores, and running them.

``serving`` is the API process's whole service lifetime: open the stores and
media, build the services, start the realtime hub, the in-process fan-out
workers and the media sweeper; on exit stop them and close everything.
``working`` is a fan-out worker process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from bootstrap.settings import Settings, load_manifest, parse_rate
from bootstrap.stores import UNAVAILABLE_ERRORS, MediaStores, open_media, open_stores
from core.errors import UserError
from core.ids import SnowflakeGenerator
from core.models import TweetRecord
from core.security import Passwords, Tokens, load_or_create_secret
from core.twitter_text import patterns as text_patterns
from services.accounts import AccountService
from services.apps import AppService
from services.container import Services, Stores
from services.curation import BookmarkService, ListService, MomentService
from services.discovery import SUGGESTION_TTL_SECONDS, PeopleSearch, WhoToFollow
from services.limits import Budgets, RateLimits, parse_networks
from services.links import LinkService
from services.media import MediaLimits, MediaService
from services.notifications import NotificationService
from services.persisted import PersistedQueries
from services.relations import RelationService
from services.search import SearchService
from services.social import SocialService
from services.trends import TrendService
from services.tweets import TweetService
from throttle.port import Limiter, Rule
from timeline.config import UNAVAILABLE, TimelineConfig
from timeline.fanout import FanOut
from timeline.feeds import Feeds
from timeline.home import HomeTimeline
from timeline.realtime import Hub
from timeline.worker import FanoutWorker, consumer_name
from trends.memory import MemoryTrendStore

log = logging.getLogger("chirp")


@dataclass
class Overrides:
    """What tests may swap in: anything left None is built from the settings."""

    stores: Stores | None = None
    passwords: Passwords | None = None


def timeline_config(settings: Settings) -> TimelineConfig:
    return TimelineConfig(
        strategy=settings.timeline_strategy,
        celebrity_threshold=settings.celebrity_threshold,
        cap=settings.timeline_cap,
        batch=settings.fanout_batch,
        # only a worker of this process can tell this process the fan-out is done
        wait_for_fanout_seconds=settings.fanout_wait_seconds if settings.inprocess_workers else 0.0,
    )


def build_services(
    stores: Stores,
    ids: SnowflakeGenerator,
    tokens: Tokens,
    public_url: str,
    passwords: Passwords | None = None,
    timeline: TimelineConfig | None = None,
    unavailable: tuple[type[BaseException], ...] = (),
    media: MediaService | None = None,
    links: LinkService | None = None,
    limits: RateLimits | None = None,
    app_quota_per_hour: int = 500_000,
    manifest: dict[str, str] | None = None,
    trends_blocklist: frozenset[str] = frozenset(),
    trends_cache_seconds: float = 5.0,
    who_to_follow_cache_seconds: float = SUGGESTION_TTL_SECONDS,
) -> Services:
    """The services over ``stores``; ``unavailable``: the errors meaning a store is down;
    ``limits``: rate limits (None: nothing is limited)."""
    config = timeline or TimelineConfig()
    down = unavailable or UNAVAILABLE
    feeds = Feeds(stores.tweets, stores.timelines, config)
    fanout = FanOut(
        stores.graph,
        stores.tweets,
        stores.timelines,
        stores.queue,
        stores.events,
        feeds,
        config,
        down,
    )
    hub = Hub(stores.events)
    relations = RelationService(stores.graph, ids, fanout)
    notifications = None
    if stores.notifications is not None:
        notifications = NotificationService(
            stores.notifications, stores.tweets, relations, ids, stores.events, hub
        )
        relations.on_block = notifications.blocked
    trends = None
    if stores.trends is not None:
        trends = TrendService(
            stores.trends,
            stores.tweets,
            blocked=trends_blocklist,
            cache_seconds=trends_cache_seconds,
        )
    # What a post's fan-out job does besides fan-out, at least once (repaired after a
    # crash): its notifications, and its hashtags' count for trends.
    fanout.after_post = after_post(notifications, trends)
    tweets = TweetService(
        stores.tweets, ids, fanout, media, links, stores.graph, relations, notifications
    )
    bookmarks = moments = lists = None
    if stores.bookmarks is not None:
        bookmarks = BookmarkService(stores.bookmarks, stores.tweets, ids)
        tweets.after_delete.append(bookmarks.tweet_deleted)
    if stores.moments is not None:
        moments = MomentService(stores.moments, stores.tweets, ids)
        tweets.after_delete.append(moments.tweet_deleted)  # a deleted tweet leaves every moment
    if stores.lists is not None:
        lists = ListService(stores.lists, stores.graph, relations, ids)
    return Services(
        stores=stores,
        tokens=tokens,
        accounts=AccountService(stores.graph, ids, passwords or Passwords(), tokens),
        social=SocialService(stores.graph, ids, fanout, relations, notifications),
        tweets=tweets,
        home=HomeTimeline(stores.graph, stores.tweets, stores.timelines, feeds, config, down),
        fanout=fanout,
        hub=hub,
        relations=relations,
        notifications=notifications,
        bookmarks=bookmarks,
        moments=moments,
        lists=lists,
        trends=trends,
        who_to_follow=WhoToFollow(stores.graph, relations, who_to_follow_cache_seconds),
        people=PeopleSearch(stores.graph, relations),
        search=SearchService(stores.search, stores.tweets, stores.graph, relations)
        if stores.search is not None
        else None,
        public_url=public_url.rstrip("/"),
        media=media,
        links=links,
        limits=limits,
        apps=AppService(stores.apps, ids, app_quota_per_hour) if stores.apps is not None else None,
        persisted=PersistedQueries(stores.queries, manifest),
    )


def after_post(
    notifications: NotificationService | None, trends: TrendService | None
) -> Callable[[TweetRecord], Awaitable[None]] | None:
    """The fan-out job's work after delivering a tweet: notify, then count its hashtags."""
    if notifications is None and trends is None:
        return None

    async def hook(tweet: TweetRecord) -> None:
        if notifications is not None:
            await notifications.tweet_posted(tweet)
        if trends is not None:
            await trends.record(tweet)

    return hook


def parse_tags(value: str) -> frozenset[str]:
    """CHIRP_TRENDS_BLOCKLIST: comma-separated tags, with or without '#', any case."""
    return frozenset(t.strip().lstrip("#").casefold() for t in value.split(",") if t.strip())


def rate_limits(settings: Settings, limiter: Limiter) -> RateLimits:
    """The rate limits the settings describe, kept in ``limiter``."""

    def rule(name: str, value: str) -> Rule:
        return Rule(name, *parse_rate(value))

    budgets = Budgets(
        user=rule("user", settings.rate_limit_user),
        anonymous=rule("ip", settings.rate_limit_anonymous),
        sign_up=rule("sign_up", settings.rate_limit_sign_up),
        log_in=rule("log_in", settings.rate_limit_log_in),
        upload=rule("upload", settings.rate_limit_upload),
        delete=rule("delete", settings.rate_limit_delete),
        connect=rule("connect", settings.rate_limit_connect),
        subscriptions=settings.max_subscriptions,
        safelist=parse_networks(settings.rate_limit_safelist),
    )
    return RateLimits(limiter, budgets, trusted_proxies=parse_networks(settings.trusted_proxies))


def make_services(
    settings: Settings,
    stores: Stores,
    passwords: Passwords | None = None,
    media: MediaStores | None = None,
    secret: str | None = None,
    ids: SnowflakeGenerator | None = None,
) -> Services:
    """The services Chirp runs with these settings, over opened stores (and media).

    ``secret``: the signing key, when the caller has loaded it already; ``ids``: the id
    generator (default: one for ``CHIRP_WORKER_ID`` on the system clock).
    """
    ids = ids or SnowflakeGenerator(settings.worker_id)
    media_service = links = None
    if media is not None:
        media_service = MediaService(
            media.objects,
            media.attachments,
            ids,
            MediaLimits(
                photo_bytes=settings.max_photo_bytes,
                gif_bytes=settings.max_gif_bytes,
                video_bytes=settings.max_video_bytes,
                upload_ttl_seconds=settings.upload_url_ttl_seconds,
                sweep_after_seconds=settings.media_sweep_after_seconds,
            ),
            settings.media_base_url,
        )
        links = LinkService(media.attachments, settings.base_url)
        stores.descriptions.update(media.descriptions)
    return build_services(
        stores,
        ids,
        Tokens(secret or secret_key(settings), settings.token_ttl_seconds),
        settings.base_url,
        passwords,
        timeline_config(settings),
        UNAVAILABLE_ERRORS,
        media_service,
        links,
        rate_limits(settings, stores.limiter),
        settings.app_quota_per_hour,
        load_manifest(settings.persisted_manifest) if settings.persisted_manifest else None,
        parse_tags(settings.trends_blocklist),
        settings.trends_cache_seconds,
        settings.who_to_follow_cache_seconds,
    )


def secret_key(settings: Settings) -> str:
    """The key that signs tokens and upload URLs: the setting, or the data folder's own."""
    return settings.secret_key or load_or_create_secret(settings.data_dir)


@contextlib.asynccontextmanager
async def media_sweeper(services: Services, every_seconds: float = 600.0) -> AsyncIterator[None]:
    """Remove media never attached to a tweet, every few minutes, in the background."""

    async def loop() -> None:
        while True:
            try:
                if services.media is not None:
                    await services.media.sweep(int(time.time() * 1000))
            except Exception as exc:
                log.warning("media sweep failed (%s); trying again later", exc)
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(loop(), name="media-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_worker(settings: Settings, services: Services) -> FanoutWorker:
    return FanoutWorker(
        services.fanout,
        services.stores.queue,
        consumer_name(settings.worker_id),
        concurrency=settings.fanout_concurrency,
        claim_idle_ms=int(settings.claim_idle_seconds * 1000),
        repair_after_ms=int(settings.repair_after_seconds * 1000),
    )


@contextlib.asynccontextmanager
async def running_workers(
    settings: Settings, services: Services, count: int
) -> AsyncIterator[None]:
    """Fan-out workers as tasks of this process, stopped (jobs finished) on exit."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(make_worker(settings, services).run(stop), name=f"fanout-{n}")
        for n in range(count)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, overrides: Overrides | None = None
) -> AsyncIterator[Services]:
    """The API process's services, from opening the stores to closing them."""
    overrides = overrides or Overrides()
    stores = overrides.stores or await open_stores(settings)
    secret = secret_key(settings)
    try:
        media = await open_media(settings, secret)
    except BaseException:
        if overrides.stores is None:
            await stores.close()
        raise
    services = make_services(settings, stores, overrides.passwords, media, secret)
    text_patterns()  # twitter-text's patterns compiled now, not on the first post
    if services.trends is not None and isinstance(stores.trends, MemoryTrendStore):
        # in-process trends start empty: counted again from the tweet store's recent tweets
        await services.trends.rebuild()
    await services.hub.start()
    try:
        async with (
            running_workers(settings, services, settings.inprocess_workers),
            media_sweeper(services),
        ):
            yield services
    finally:
        await services.hub.stop()
        await media.close()
        if overrides.stores is None:
            await stores.close()
        log.info("stores closed")


@contextlib.asynccontextmanager
async def working(settings: Settings) -> AsyncIterator[Services]:
    """A fan-out worker process's services: the stores and one worker (no API, no media)."""
    stores = await open_stores(settings, worker=True)
    services = make_services(settings, stores)
    try:
        async with running_workers(settings, services, 1):
            yield services
    finally:
        await stores.close()


class AdminError(Exception):
    """An operator task that cannot be done as asked."""


async def register_app(settings: Settings, owner_handle: str, name: str) -> list[str]:
    """``admin create-app``: a new app of the user ``owner_handle``; its key, printed once."""
    stores = await open_stores(settings)
    try:
        services = make_services(settings, stores)
        handle = owner_handle.lstrip("@").lower()
        owner = (await services.accounts.users_by_handles([handle])).get(handle)
        if owner is None:
            raise AdminError(f"no user @{owner_handle.lstrip('@')}: sign up first")
        assert services.apps is not None
        try:
            app, key = await services.apps.register(owner.id, name)
        except UserError as exc:
            raise AdminError(exc.message) from None
        return [f"app {app.id} ({app.name}) for @{owner.handle}", f"key: {key}"]
    finally:
        await stores.close()
