r"""Validation and parsing of user-written text: tweets, handles, profiles.

A tweet's length, its URLs, mentions and hashtags follow twitter-text 3.1.0, the
library frontends count characters with (``core/twitter_text.py``, a port):

- its weighted length, config v3, at most 280: most characters count 1, but CJK
  characters, most symbols and every emoji sequence count 2 (however many code
  points: 👩\u200d💻 is 2), each URL 23, after NFC;
- its URLs with or without a protocol (``example.com``), mentions (``@name``,
  not ``@name/list``, not in an e-mail address, not inside a URL) and hashtags.

Every free-text field goes through the same small steps, each a function here:

1. ``clean_text``: line endings become ``\n``; control characters (Unicode
   category Cc, tab included) are dropped, newlines too in single-line fields
   (and there the line and paragraph separators U+2028/U+2029 as well); NFC;
   surrounding whitespace trimmed.
2. ``invalid_characters``: characters refused outright, with the typed error
   INVALID_CHARACTERS naming the field and each character (``refuse_invalid_characters``).
   Refusing rather than stripping: stripping a direction control silently
   changes what the text says, and bad input must change nothing.
3. ``has_visible_text``: text made only of invisible characters (whitespace,
   zero-width and other format characters, combining marks with nothing to
   combine with, variation selectors, the Hangul fillers, the braille blank...,
   see ``is_invisible``) counts as empty, exactly like whitespace-only text:
   EMPTY for a tweet or a new display name, no bio, the handle for a display
   name left out at sign-up. Joiners inside visible text stay: an emoji ZWJ
   sequence (👩\u200d💻) or a ZWNJ in Persian is accepted as written.

Which characters step 2 refuses, per field (UTS #39 and UTS #55 advise against
bidirectional controls where text is identity or is shown among other text;
twitter-text's rules for tweets):

- Everywhere: U+FFFE, U+FFFF and U+FEFF (twitter-text's invalid characters;
  a tweet containing one is refused), lone surrogates (not text at all), and
  the directional overrides U+202D LRO / U+202E RLO, which make a renderer
  show characters in an order other than the one they are stored in
  (``Admin\u202egnp.exe`` reads "Adminexe.png"). Writing in any script needs
  neither.
- Display names: every explicit directional formatting character as well,
  the embeddings U+202A/U+202B, U+202C PDF and the isolates U+2066-U+2069. A
  name is shown inline among other text (timelines, notifications, "retweeted
  by"), where an unclosed one would reorder the text around it.
- Tweets and bios: the embeddings and isolates are accepted when each is
  properly closed (U+202C, U+2069) on its own line, as keyboards and
  Android's BidiFormatter write them around mixed-direction text; an unclosed
  opener or a stray closer is refused. (twitter-text up to 2.x refused
  U+202A-U+202E in tweets; since 3.0 its invalid characters are only U+FFFE,
  U+FEFF and U+FFFF, and every directional character is accepted.)
- The directional marks U+200E LRM, U+200F RLM and U+061C ALM are accepted in
  every field: they are invisible letters with a direction, which can settle
  where neighbouring punctuation and digits go but cannot reverse a word, and
  right-to-left writers rely on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from core.errors import UserError
from core.twitter_text import (
    CONFIG_V3,
    MentionOrList,
    extract_hashtags_with_indices,
    extract_mentions_or_lists_with_indices,
    extract_urls_with_indices,
    parse_tweet,
    remove_overlapping_entities,
)

MAX_TWEET_LENGTH = CONFIG_V3.max_weighted_tweet_length  # 280
URL_WEIGHT = CONFIG_V3.transformed_url_length  # 23: a URL counts as long as its short link
MAX_HANDLE_LENGTH = 15
MAX_DISPLAY_NAME_LENGTH = 50
MAX_BIO_LENGTH = 160
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256

HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
# Handles that are also the first segment of a path the server answers itself: the web
# client shows a profile at /<handle> (web/client.py), so a user named @graphql or
# @static would have a page nobody can open. Lower-cased; sign-up refuses them
# (HANDLE_RESERVED). Accounts that took one before it was reserved keep it.
RESERVED_HANDLES = frozenset(
    {
        # the server's routes (web/routes.py, web/media_routes.py, web/assets.py)
        "graphql", "healthz", "readyz", "metrics", "static", "media", "uploads", "l",
        # the web client's pages (web/client.py), and "i", Tweet.url's stand-in handle
        "login", "logout", "signup", "notifications", "search", "home", "settings", "i",
    }
)  # fmt: skip


# --- characters ----------------------------------------------------------------

# twitter-text's invalid characters: U+FFFE and U+FFFF are noncharacters,
# U+FEFF is a byte order mark (ZERO WIDTH NO-BREAK SPACE).
NOT_TEXT_CHARACTERS = frozenset("\ufffe\uffff\ufeff")
BIDI_OVERRIDES = frozenset("\u202d\u202e")  # LRO, RLO: refused everywhere
POP_DIRECTIONAL_FORMATTING = "\u202c"  # PDF: closes an embedding or an override
POP_DIRECTIONAL_ISOLATE = "\u2069"  # PDI: closes an isolate
# each opener and the character that closes it
_BIDI_CLOSER = {
    "\u202a": POP_DIRECTIONAL_FORMATTING,  # LRE
    "\u202b": POP_DIRECTIONAL_FORMATTING,  # RLE
    "\u202d": POP_DIRECTIONAL_FORMATTING,  # LRO
    "\u202e": POP_DIRECTIONAL_FORMATTING,  # RLO
    "\u2066": POP_DIRECTIONAL_ISOLATE,  # LRI
    "\u2067": POP_DIRECTIONAL_ISOLATE,  # RLI
    "\u2068": POP_DIRECTIONAL_ISOLATE,  # FSI
}
# explicit directional formatting: U+202A-U+202E and U+2066-U+2069
BIDI_CONTROLS = frozenset(_BIDI_CLOSER) | {POP_DIRECTIONAL_FORMATTING, POP_DIRECTIONAL_ISOLATE}
# the ones tweets and bios accept when paired on their line
BIDI_PAIRED_CONTROLS = BIDI_CONTROLS - BIDI_OVERRIDES

# Whitespace, controls, format characters and combining marks draw nothing of
# their own (a mark needs a base to sit on).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Mc", "Me"})
# Format characters that do draw a glyph: the prepended concatenation marks
# (ARABIC NUMBER SIGN and its kin, which span the digits after them).
_VISIBLE_FORMAT_CHARACTERS = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)
# Letters and symbols that draw nothing, the usual material of "blank" names:
# the Hangul fillers (default ignorable), BRAILLE PATTERN BLANK, MUSICAL SYMBOL
# NULL NOTEHEAD.
_BLANK_LOOKALIKES = frozenset("\u115f\u1160\u3164\uffa0\u2800\U0001d159")


def describe_character(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character as an error message names it."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}" if name else f"U+{ord(ch):04X}"


def is_invisible(ch: str) -> bool:
    """Whether ``ch`` draws nothing on its own.

    Whitespace, control and format characters (zero-width space and joiners,
    word joiner, BOM, direction controls and marks, soft hyphen, tags...),
    combining marks and variation selectors, the Hangul fillers, the braille
    blank, and the code points Unicode reserves as default ignorable. Other
    unassigned code points count as visible: they may be emoji newer than this
    Python's Unicode data.
    """
    if ch in _BLANK_LOOKALIKES:
        return True
    if ch in _VISIBLE_FORMAT_CHARACTERS:
        return False
    code = ord(ch)
    if code == 0x2065 or 0xFFF0 <= code <= 0xFFF8 or 0xE0000 <= code <= 0xE0FFF:
        return True  # default ignorable, reserved or not
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES


def has_visible_text(text: str) -> bool:
    """Whether anything in ``text`` would show: text made only of invisible characters is empty."""
    return not all(is_invisible(ch) for ch in text)


def unpaired_bidi_controls(text: str) -> list[str]:
    """Directional embeddings, overrides and isolates not properly paired on their line.

    Each opener (LRE, RLE, LRO, RLO, LRI, RLI, FSI) must be closed by its pop
    (PDF, PDI) on the same line, pairs nesting; a pop with nothing of its kind
    open is unpaired too. Lines, because a renderer ends every embedding at a
    paragraph break. In order found, repeats kept.
    """
    unpaired: list[str] = []
    for line in text.splitlines():
        open_: list[str] = []
        for ch in line:
            if ch in _BIDI_CLOSER:
                open_.append(ch)
            elif ch in (POP_DIRECTIONAL_FORMATTING, POP_DIRECTIONAL_ISOLATE):
                if open_ and _BIDI_CLOSER[open_[-1]] == ch:
                    open_.pop()
                else:
                    unpaired.append(ch)
        unpaired.extend(open_)
    return unpaired


# every character invalid_characters can find
_MAYBE_INVALID = re.compile("[\ufffe\uffff\ufeff\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def invalid_characters(text: str, *, paired_bidi: bool) -> list[str]:
    """The characters that make ``text`` unacceptable, each once, in order of first appearance.

    Always U+FFFE, U+FFFF, U+FEFF, lone surrogates and the overrides LRO/RLO.
    The embeddings, isolates and their pops: with ``paired_bidi`` (tweets,
    bios) only those left unpaired on their line, otherwise (display names)
    all of them. See the module docstring for why.
    """
    if not _MAYBE_INVALID.search(text):
        return []
    refused = set(unpaired_bidi_controls(text)) if paired_bidi else BIDI_CONTROLS
    found: dict[str, None] = {}
    for ch in text:
        if (
            ch in NOT_TEXT_CHARACTERS
            or ch in BIDI_OVERRIDES
            or ch in refused
            or unicodedata.category(ch) == "Cs"
        ):
            found.setdefault(ch, None)
    return list(found)


def refuse_invalid_characters(text: str, field: str, subject: str, *, paired_bidi: bool) -> None:
    """Raise INVALID_CHARACTERS for ``field`` naming each refused character; ``subject``
    starts the message ("A tweet")."""
    found = invalid_characters(text, paired_bidi=paired_bidi)
    if not found:
        return
    message = f"{subject} cannot contain {', '.join(map(describe_character, found))}."
    if paired_bidi and any(ch in BIDI_PAIRED_CONTROLS for ch in found):
        message += (
            " Directional embeddings and isolates are accepted when each is closed"
            " (U+202C, U+2069) on the same line."
        )
    raise UserError("INVALID_CHARACTERS", message, field)


# --- cleaning ------------------------------------------------------------------


# control characters (category Cc: U+0000-U+001F, U+007F-U+009F), the newline kept or not, and
# U+2028/U+2029 when newlines are not kept
_DROPPED = {
    True: re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]+"),
    False: re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+"),
}


def _strip_controls(text: str, keep_newlines: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _DROPPED[keep_newlines].sub("", text)


def clean_text(text: str, keep_newlines: bool = True) -> str:
    """NFC-normalise, drop control characters (line breaks optionally kept), trim."""
    # controls go first, so characters they separated can compose
    return unicodedata.normalize("NFC", _strip_controls(text, keep_newlines)).strip()


@dataclass(frozen=True)
class UrlSpan:
    start: int  # Python string indices into the text
    end: int
    url: str  # as written: a scheme only if the text has one


def find_urls(text: str) -> list[UrlSpan]:
    """The URLs twitter-text finds in ``text``, in order: with or without a protocol
    (``https://example.com/a``, ``example.com``), sentence punctuation after them left out."""
    return [UrlSpan(url.start, url.end, url.url) for url in extract_urls_with_indices(text)]


def weighted_length(text: str) -> int:
    """twitter-text's weighted length (config v3) of ``text``, NFC-normalised: each character 1
    or 2 by its range, each emoji sequence 2, each URL 23."""
    return parse_tweet(text).weighted_length


def validate_tweet_text(raw: str) -> str:
    """The text to store, or a UserError (INVALID_CHARACTERS, EMPTY, TOO_LONG) naming field
    ``text``. Invisible-only text is EMPTY; directional embeddings and isolates must be paired;
    the weighted length is at most 280."""
    text = clean_text(raw)
    refuse_invalid_characters(text, "text", "A tweet", paired_bidi=True)
    if not has_visible_text(text):
        raise UserError("EMPTY", "A tweet needs some text.", "text")
    length = weighted_length(text)
    if length > MAX_TWEET_LENGTH:
        raise UserError(
            "TOO_LONG",
            f"A tweet is at most {MAX_TWEET_LENGTH} characters, weighted (CJK characters and "
            f"emoji count 2, each link {URL_WEIGHT}); this one is {length}.",
            "text",
        )
    return text


def extract_hashtags(text: str) -> list[str]:
    """twitter-text's hashtags, without the sign, case-folded, unique, in order of appearance."""
    seen: dict[str, None] = {}
    for tag in extract_hashtags_with_indices(text):
        seen.setdefault(tag.hashtag.casefold(), None)
    return list(seen)


def extract_mentions_with_indices(text: str) -> list[MentionOrList]:
    """twitter-text's mentions (lists left out), except those inside a URL, as twitter-text's
    entity extraction (what it links) drops them: ``https://example.social/@bob`` mentions
    nobody."""
    mentions = extract_mentions_or_lists_with_indices(text)
    if not mentions:
        return []
    entities = remove_overlapping_entities([*extract_urls_with_indices(text), *mentions])
    return [e for e in entities if isinstance(e, MentionOrList) and not e.list_slug]


def extract_mentions(text: str) -> list[str]:
    """Mentioned screen names, lower-cased, unique, in order of appearance."""
    seen: dict[str, None] = {}
    for mention in extract_mentions_with_indices(text):
        seen.setdefault(mention.screen_name.lower(), None)
    return list(seen)


def validate_handle(raw: str) -> str:
    handle = raw.strip()
    if not HANDLE_RE.fullmatch(handle):
        raise UserError(
            "INVALID_HANDLE",
            f"A handle is 1-{MAX_HANDLE_LENGTH} characters of letters, digits and '_'.",
            "handle",
        )
    if handle.lower() in RESERVED_HANDLES:
        raise UserError(
            "HANDLE_RESERVED",
            f"The handle @{handle} is reserved: it names one of Chirp's own pages.",
            "handle",
        )
    return handle


def validate_display_name(raw: str) -> str:
    """The name to store: one line, no directional formatting (INVALID_CHARACTERS), at most
    50 characters (TOO_LONG). Invisible-only is "" (the caller decides what empty means)."""
    name = clean_text(raw, keep_newlines=False)
    refuse_invalid_characters(name, "displayName", "A display name", paired_bidi=False)
    if not has_visible_text(name):
        return ""
    if len(name) > MAX_DISPLAY_NAME_LENGTH:
        raise UserError(
            "TOO_LONG",
            f"A display name is at most {MAX_DISPLAY_NAME_LENGTH} characters.",
            "displayName",
        )
    return name


def validate_bio(raw: str) -> str:
    """The bio to store: a tweet's character rules (INVALID_CHARACTERS), at most 160
    characters (TOO_LONG). Invisible-only is "", no bio."""
    bio = clean_text(raw)
    refuse_invalid_characters(bio, "bio", "A bio", paired_bidi=True)
    if not has_visible_text(bio):
        return ""
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


MAX_APP_NAME_LENGTH = 50


def validate_app_name(raw: str) -> str:
    """An app's name: a display name's rules, and not empty (EMPTY)."""
    name = clean_text(raw, keep_newlines=False)
    refuse_invalid_characters(name, "name", "An app name", paired_bidi=False)
    if not has_visible_text(name):
        raise UserError("EMPTY", "Give the app a name.", "name")
    if len(name) > MAX_APP_NAME_LENGTH:
        raise UserError(
            "TOO_LONG", f"An app name is at most {MAX_APP_NAME_LENGTH} characters.", "name"
        )
    return name
