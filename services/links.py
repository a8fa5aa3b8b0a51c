"""Short links, t.co style: URLs in tweets are stored behind CHIRP_PUBLIC_URL/l/<code>.

``shorten`` replaces each URL of a tweet's text by its short link when the tweet
is posted; ``GET /l/<code>`` expands it (``web/media_routes.py``).
"""

from __future__ import annotations

from core.links import CODE_LENGTH, MAX_CODE_LENGTH, short_code
from core.text import find_urls
from docstore.attachments import AttachmentStore


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
        if not code.isalnum() or len(code) > MAX_CODE_LENGTH:
            return None
        return (await self.records.get_links([code])).get(code)
