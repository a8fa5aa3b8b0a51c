"""Short links, t.co style: the pure parts (codes, display URLs).

A code is derived from the URL (base62 of its SHA-256), so the same URL gets
the same code every time; on the rare collision with another URL the code
grows by a character (``services/links.py``, which stores them).
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
CODE_LENGTH = 8
MAX_CODE_LENGTH = 20


def short_code(url: str, length: int = CODE_LENGTH) -> str:
    number = int.from_bytes(hashlib.sha256(url.encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(chars)


def display_url(url: str) -> str:
    """The host of a URL, for display; a URL written without a scheme (``example.com/a``,
    as twitter-text finds them) is read as https."""
    return urlsplit(url if "://" in url else f"https://{url}").hostname or url
