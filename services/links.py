"""Short links, t.co style: URLs in tweets are stored behind CHIRP_PUBLIC_URL/l/<code>.

``shorten`` replaces each URL of a tweet's text by its short link when the tweet
is posted; ``GET /l/<code>`` expands it (``web/media_routes.py``). The URLs are
twitter-text's, some without a protocol (``example.com/a``): each is stored as
written (the tweet's ``expandedUrl``), and a short link to one without a
protocol redirects to it over https, as twitter-text assumes.
"""

from __future__ import annotations

import re

from core.links import CODE_LENGTH, MAX_CODE_LENGTH, short_code
from core.text import find_urls
from core.twitter_text import DEFAULT_PROTOCOL
from docstore.attachments import AttachmentStore

_HAS_PROTOCOL = re.compile(r"(?ai:https?://)")  # the only protocols twitter-text finds


def browser_url(url: str) -> str:
    """``url`` as a browser opens it: ``example.com/a`` becomes ``https://example.com/a``."""
    return url if _HAS_PROTOCOL.match(url) else DEFAULT_PROTOCOL + url


class LinkService:
    def __init__(self, records: AttachmentStore, public_url: str) -> None:
        self.records = records
        self.public_url = public_url.rstrip("/")

    def short_url(self, code: str) -> str:
        return f"{self.public_url}/l/{code}"

    async def _code(self, url: str) -> str:
        for length in range(CODE_LENGTH, MAX_CODE_LENGTH + 1):
            code = short_code(url, length)
            await self.records.put_links([(code, url)])
            if (await self.records.get_links([code])).get(code) == url:
                return code
        raise RuntimeError(f"no free short code for {url!r}")

    async def shorten(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The text with each URL replaced by its short link, and the (code, URL) pairs."""
        spans = find_urls(text)
        if not spans:
            return text, ()
        links: list[tuple[str, str]] = []
        out = text
        for span in reversed(spans):
            code = await self._code(span.url)
            out = out[: span.start] + self.short_url(code) + out[span.end :]
            links.append((code, span.url))
        return out, tuple(reversed(links))

    async def expand(self, code: str) -> str | None:
        """Where the short link ``code`` redirects: its URL, with a protocol."""
        if not code.isalnum() or len(code) > MAX_CODE_LENGTH:
            return None
        url = (await self.records.get_links([code])).get(code)
        return None if url is None else browser_url(url)
