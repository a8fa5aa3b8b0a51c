"""Validation and parsing of user-written text: tweets, handles, profiles."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.errors import UserError

MAX_TWEET_LENGTH = 280
URL_WEIGHT = 23  # a URL counts as long as its short link
MAX_HANDLE_LENGTH = 15
MAX_DISPLAY_NAME_LENGTH = 50
MAX_BIO_LENGTH = 160
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
# http(s) URLs up to whitespace; trailing punctuation that usually ends a
# sentence is not part of the URL.
URL_RE = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""
HASHTAG_RE = re.compile(r"(?<![\w#&])#(\w{1,100})")
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")


def _strip_controls(text: str, keep_newlines: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        ch for ch in text if (ch == "\n" and keep_newlines) or unicodedata.category(ch) != "Cc"
    )


def clean_text(text: str, keep_newlines: bool = True) -> str:
    """NFC-normalise, drop control characters (newline optionally kept), trim."""
    # controls go first, so characters they separated can compose
    return unicodedata.normalize("NFC", _strip_controls(text, keep_newlines)).strip()


@dataclass(frozen=True)
class UrlSpan:
    start: int
    end: int
    url: str


def find_urls(text: str) -> list[UrlSpan]:
    spans: list[UrlSpan] = []
    for match in URL_RE.finditer(text):
        url = match.group(0)
        while url and url[-1] in _URL_TRAILING:
            # keep a closing parenthesis that belongs to the URL, as in Wikipedia links
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if len(url) > len("https://"):
            spans.append(UrlSpan(match.start(), match.start() + len(url), url))
    return spans


def weighted_length(text: str) -> int:
    """Length as counted against the limit: code points, each URL counting 23."""
    spans = find_urls(text)
    return len(text) - sum(s.end - s.start for s in spans) + URL_WEIGHT * len(spans)


def validate_tweet_text(raw: str) -> str:
    """The text to store, or a UserError (EMPTY, TOO_LONG) naming field ``text``."""
    text = clean_text(raw)
    if not text:
        raise UserError("EMPTY", "A tweet needs some text.", "text")
    length = weighted_length(text)
    if length > MAX_TWEET_LENGTH:
        raise UserError(
            "TOO_LONG",
            f"A tweet is at most {MAX_TWEET_LENGTH} characters (each link counts "
            f"{URL_WEIGHT}); this one is {length}.",
            "text",
        )
    return text


def _without_urls(text: str) -> str:
    out = text
    for span in reversed(find_urls(text)):
        out = out[: span.start] + " " * (span.end - span.start) + out[span.end :]
    return out


def extract_hashtags(text: str) -> list[str]:
    """Hashtags, lower-cased, without '#', unique, in order of appearance."""
    seen: dict[str, None] = {}
    for match in HASHTAG_RE.finditer(_without_urls(text)):
        tag = match.group(1).lower()
        if not tag.replace("_", "").isdigit():  # '#1' is not a hashtag
            seen.setdefault(tag, None)
    return list(seen)


def extract_mentions(text: str) -> list[str]:
    """Mentioned handles, lower-cased, unique, in order of appearance."""
    seen: dict[str, None] = {}
    for match in MENTION_RE.finditer(_without_urls(text)):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


def validate_handle(raw: str) -> str:
    handle = raw.strip()
    if not HANDLE_RE.fullmatch(handle):
        raise UserError(
            "INVALID_HANDLE",
            f"A handle is 1-{MAX_HANDLE_LENGTH} characters of letters, digits and '_'.",
            "handle",
        )
    return handle


def validate_display_name(raw: str) -> str:
    name = clean_text(raw, keep_newlines=False)
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise UserError(
            "TOO_LONG",
            f"A display name is at most {MAX_DISPLAY_NAME_LENGTH} characters.",
            "displayName",
        )
    return name


def validate_bio(raw: str) -> str:
    bio = clean_text(raw)
    if len(bio) > MAX_BIO_LENGTH:
        raise UserError("TOO_LONG", f"A bio is at most {MAX_BIO_LENGTH} characters.", "bio")
    return bio


def validate_password(raw: str) -> str:
    if len(raw) < MIN_PASSWORD_LENGTH:
        raise UserError(
            "WEAK_PASSWORD",
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
            "password",
        )
    if len(raw) > MAX_PASSWORD_LENGTH:
        raise UserError(
            "TOO_LONG", f"A password is at most {MAX_PASSWORD_LENGTH} characters.", "password"
        )
    return raw
