r"""Twitter's tweet text rules, as twitter-text 3.1.0 has them, in Python.

A port of twitter-text's JavaScript (https://github.com/twitter/twitter-text, ``js/src``,
commit 30e2430d90cff3b46393ea54caf511441983c260, the 3.1.0 release; Copyright 2018
Twitter, Inc., Apache License 2.0, http://www.apache.org/licenses/LICENSE-2.0, a copy in
``tests/conformance/twitter_text/LICENSE``), the
library frontends count characters with, and of the emoji pattern of twemoji-parser 11.0.2
(Copyright (c) 2018 Twitter, Inc., MIT License), the version twitter-text 3.1.0 depends on.
Changed from the original: the patterns are rewritten for Python's ``re`` (below), the scans
are arranged to skip text that cannot match, and indices are Python string indices (code
points) instead of UTF-16 code units. The data tables are ``core/twitter_text_data.py``.

What it provides, each named after the twitter-text function it ports:

- ``parse_tweet``: the weighted length (config v3: each character weighs 2, those of
  U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037 weigh 1, a URL 23 and an
  emoji sequence 2 whatever its code points, after NFC) and whether the text is a valid tweet.
- ``extract_urls_with_indices``: URLs, with or without a protocol (``example.com``), as
  twitter-text finds them (its top-level domain lists, its trailing punctuation rules, t.co).
- ``extract_mentions_or_lists_with_indices``, ``extract_mentions_with_indices``: ``@name``
  and ``@name/list`` (and the full-width ``＠``), not inside an e-mail address.
- ``extract_hashtags_with_indices``: ``#tag`` (and ``＃``) of Unicode letters, marks, digits
  and a few joiners, not all digits, not inside a URL.

How the JavaScript patterns become Python ones, so that both match the same text:

- JavaScript (without the ``u`` flag) matches UTF-16 code units: a character outside the Basic
  Multilingual Plane is a surrogate pair there (``\ud83d[\ude00-\ude4f]``). ``from_utf16``
  rewrites those pairs as code points.
- JavaScript's ``i`` flag folds case by upper-casing each code unit, and never maps a
  non-ASCII character to an ASCII one; Python's ``re.IGNORECASE`` also folds ``ı``, ``ſ`` and
  the Kelvin sign into ASCII letters, and lower-cases. So no pattern here uses it: the classes
  and words of case-insensitive patterns are spelt out with every character JavaScript's ``i``
  flag lets match them (``ignore_case``).
- ``$`` (end of input in JavaScript) is ``\Z``; ``\s``, ``\w`` and ``\d`` are not used.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from core.twitter_text_data import (
    ASTRAL_LETTERS_AND_MARKS,
    ASTRAL_NUMERALS,
    BMP_LETTERS_AND_MARKS,
    BMP_NUMERALS,
    COUNTRY_TLDS,
    GENERIC_TLDS,
    TWEMOJI,
)

# --- from JavaScript patterns to Python ones ---------------------------------------------------

_SURROGATE_PAIR = re.compile(
    r"\\u(d[89ab][0-9a-f]{2})"  # a high surrogate, then
    r"(?:\\u(d[c-f][0-9a-f]{2})"  # a low one
    r"|\[((?:\\ud[c-f][0-9a-f]{2}(?:-\\ud[c-f][0-9a-f]{2})?)+)\])",  # or a class of low ones
    re.IGNORECASE,
)
_LOW_SURROGATES = re.compile(r"\\u(d[c-f][0-9a-f]{2})(?:-\\u(d[c-f][0-9a-f]{2}))?", re.IGNORECASE)
_ANY_SURROGATE = re.compile(r"\\ud[89a-f][0-9a-f]{2}", re.IGNORECASE)


def _astral(high: int, low: int) -> str:
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"


def from_utf16(pattern: str) -> str:
    r"""A JavaScript pattern over UTF-16 code units rewritten over code points.

    ``\ud83d\ude00`` becomes ``\U0001f600`` and ``\ud83d[\ude00-\ude4f]`` becomes
    ``[\U0001f600-\U0001f64f]``; any other surrogate left is an error.
    """

    def code_points(match: re.Match[str]) -> str:
        high = int(match[1], 16)
        if match[2]:
            return _astral(high, int(match[2], 16))
        items = _LOW_SURROGATES.findall(match[3])
        return (
            "["
            + "".join(
                _astral(high, int(a, 16)) + (f"-{_astral(high, int(b, 16))}" if b else "")
                for a, b in items
            )
            + "]"
        )

    converted = _SURROGATE_PAIR.sub(code_points, pattern)
    if left := _ANY_SURROGATE.search(converted):
        raise ValueError(f"a surrogate not in a pair: {left[0]} in {pattern!r}")
    return converted


def utf16_class_codes(pattern: str) -> set[int]:
    r"""The code points of a JavaScript alternation of surrogate pairs (``\ud800[\udc00-\udc0b]|...``)."""
    codes: set[int] = set()
    for part in from_utf16(pattern).split("|"):
        codes |= class_codes(part.removeprefix("[").removesuffix("]"))
    return codes


_CLASS_ATOM = re.compile(
    r"\\U([0-9a-fA-F]{8})|\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\(.)|(.)", re.DOTALL
)


def class_codes(body: str) -> set[int]:
    r"""The code points of a character class's contents (``A-Za-z\xaa\u0300-\u036f``)."""
    atoms: list[tuple[int, bool]] = []  # each code point, and whether it is a plain "-"
    for long, short, byte, escaped, plain in _CLASS_ATOM.findall(body):
        number = long or short or byte
        atoms.append((int(number, 16), False) if number else (ord(escaped or plain), plain == "-"))
    codes: set[int] = set()
    i = 0
    while i < len(atoms):
        if i + 2 < len(atoms) and atoms[i + 1][1]:  # a range: atom, "-", atom
            codes.update(range(atoms[i][0], atoms[i + 2][0] + 1))
            i += 3
        else:
            codes.add(atoms[i][0])
            i += 1
    return codes


def _js_canonical(code: int) -> int:
    """JavaScript's Canonicalize for the ``i`` flag without ``u``: the code unit upper-cased,
    unless that is not one code unit or maps a non-ASCII character to ASCII."""
    upper = chr(code).upper()
    if len(upper) != 1 or ord(upper) > 0xFFFF or (code >= 0x80 and ord(upper) < 0x80):
        return code
    return ord(upper)


@cache
def _case_groups() -> dict[int, frozenset[int]]:
    """Each BMP code unit that has case, and all those that fold with it."""
    units = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    cased = [
        ord(unit) for unit, upper in zip(units, map(str.upper, units), strict=True) if unit != upper
    ]
    groups: dict[int, set[int]] = {}
    for code in cased:
        canonical = _js_canonical(code)
        if canonical != code:
            groups.setdefault(canonical, {canonical}).add(code)
    return {member: frozenset(group) for group in groups.values() for member in group}


def ignore_case(codes: Iterable[int]) -> set[int]:
    """The code points JavaScript's ``i`` flag lets a class of ``codes`` match."""
    groups = _case_groups()
    folded = set(codes)
    for code in folded & groups.keys():
        folded |= groups[code]
    return folded


def _ranges(codes: set[int]) -> Iterator[tuple[int, int]]:
    ordered = sorted(codes)
    start = previous = ordered[0]
    for code in ordered[1:]:
        if code != previous + 1:
            yield start, previous
            start = code
        previous = code
    yield start, previous


def _escape(code: int) -> str:
    if 0x30 <= code <= 0x39 or 0x41 <= code <= 0x5A or 0x61 <= code <= 0x7A:
        return chr(code)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def char_class(codes: set[int], *, negate: bool = False) -> str:
    """A Python character class of exactly ``codes`` (or all but them)."""
    body = "".join(
        _escape(a) if a == b else f"{_escape(a)}{'' if b == a + 1 else '-'}{_escape(b)}"
        for a, b in _ranges(codes)
    )
    return f"[{'^' if negate else ''}{body}]"


def ci_class(body: str, *, negate: bool = False) -> str:
    """A JavaScript class's contents under the ``i`` flag, as a Python class."""
    return char_class(ignore_case(class_codes(body)), negate=negate)


@cache
def _ci_char(ch: str) -> str:
    """``ch`` for a ``(?ai:...)`` scope (where Python folds ASCII letters only, as JavaScript
    does): an ASCII letter as it is, another character with case as the class of its folds."""
    folded = ignore_case({ord(ch)})
    return re.escape(ch) if ch.isascii() or len(folded) == 1 else char_class(folded)


def ci_word(word: str) -> str:
    """A word matched as JavaScript's ``i`` flag matches it."""
    return "(?ai:" + "".join(map(_ci_char, word)) + ")"


class _Trie:
    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.ends = False

    def pattern(self) -> str:
        """This node's words after it: each child first (longer words), then the end."""
        branches = [_ci_char(ch) + child.pattern() for ch, child in self.children.items()]
        if not branches:
            return ""
        alternation = "|".join(branches)
        if self.ends:
            return f"(?:{alternation})?"
        return alternation if len(branches) == 1 else f"(?:{alternation})"


def _trie_pattern(words: Iterable[str]) -> str:
    """An alternation of ``words`` as a trie (longest first), each matched case-insensitively.

    Python's ``re`` tries each branch of a long alternation in turn; a trie tries one branch
    per character. Longest first agrees with twitter-text's order of its domain lists (where
    one word starts another, the longer comes first).
    """
    root = _Trie()
    for word in words:
        node = root
        for ch in word:
            node = node.children.setdefault(chr(_js_canonical(ord(ch))), _Trie())
        node.ends = True
    return "(?ai:" + root.pattern() + ")"


# --- character groups (js/src/regexp/*.js) ------------------------------------------------------

LATIN_ACCENT_CHARS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268"
    r"\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
CYRILLIC_LETTERS_AND_MARKS = r"\u0400-\u04FF"
PUNCT = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$"
SPACES_GROUP = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
INVALID_CHARS_GROUP = r"\uFFFE\uFEFF\uFFFF"
DIRECTIONAL_MARKERS_GROUP = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
HASHTAG_SPECIAL_CHARS = r"_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\xb7"
INVALID_CHARS = re.compile(f"[{INVALID_CHARS_GROUP}]")

DEFAULT_PROTOCOL = "https://"
MAX_URL_LENGTH = 4096  # UTF-16 code units, protocol included
MAX_TCO_SLUG_LENGTH = 40
MAX_DOMAIN_LABEL_LENGTH = 63

# --- mentions and lists (validMentionOrList.js, endMentionMatch.js; no i flag) -----------------

VALID_MENTION_OR_LIST = re.compile(
    r"((?:^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.\-])(?:rt|RT|rT|Rt):?))"  # 1: before
    r"([@＠])"  # 2: at sign
    r"([a-zA-Z0-9_]{1,20})"  # 3: screen name
    r"(/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?"  # 4: list
)
END_MENTION_MATCH = re.compile(f"(?:[@＠]|[{LATIN_ACCENT_CHARS}]|://)")
END_HASHTAG_MATCH = re.compile("(?:[#＃]|://)")


def pattern_alphabet(pattern: str) -> set[int]:
    """Every code point a pattern made of literals and classes can match: its classes' ranges
    and its other characters, the syntax's included (a harmless extra)."""
    codes: set[int] = set()
    for body, outside in re.findall(r"\[((?:\\.|[^\]\\])*)\]|((?:\\.|[^\[\\])+)", pattern):
        if body.startswith("^") or re.search(r"(?<!\\)\.", outside):
            raise ValueError("not a pattern of literals and classes only")
        codes |= class_codes(body or outside)
    return codes


@dataclass(frozen=True)
class Patterns:
    """The large patterns, compiled on first use (a tenth of a second: the domain lists are long)."""

    extract_url: re.Pattern[str]
    domain_char: re.Pattern[str]
    valid_tco_url: re.Pattern[str]
    valid_ascii_domain: re.Pattern[str]
    before_a_dot: re.Pattern[str]
    valid_hashtag: re.Pattern[str]
    hashtag_without_letter: re.Pattern[str]
    emoji: re.Pattern[str]
    emoji_run: re.Pattern[str]


@cache
def patterns() -> Patterns:
    """twitter-text's patterns for URLs and hashtags, and twemoji-parser's for emoji."""
    # URLs: extractUrl.js and the patterns it is made of, all under the i flag.
    # validDomainChars: anything but punctuation, spaces, invalid characters, directional marks
    domain_char = ci_class(
        PUNCT + SPACES_GROUP + INVALID_CHARS_GROUP + DIRECTIONAL_MARKERS_GROUP, negate=True
    )
    # validUrlPrecedingChars. In JavaScript it matches one code unit, so the first half of a
    # character outside the BMP precedes a domain that starts with its second half: here, the
    # empty string before such a character (tried first, as JavaScript reaches it first).
    url_preceding = (
        f"(?:(?=[\\U00010000-\\U0010ffff])"
        f"|{ci_class('A-Za-z0-9@＠$#＃' + INVALID_CHARS_GROUP, negate=True)}"
        f"|[{DIRECTIONAL_MARKERS_GROUP}]|^)"
    )
    subdomain = f"(?:(?:{domain_char}(?:[_\\-]|{domain_char})*)?{domain_char}\\.)"
    domain_name = f"(?:(?:{domain_char}(?:-|{domain_char})*)?{domain_char}\\.)"
    # validGTLD | validCCTLD (each followed by this look-ahead) | validPunycode
    punycode = ci_word("xn--") + ci_class(r"\-0-9a-z") + "+"
    tlds = _trie_pattern(GENERIC_TLDS + COUNTRY_TLDS)
    tld = f"(?:{tlds}(?=[^0-9a-zA-Z@+\\-]|\\Z)|{punycode})"
    domain = f"(?:{subdomain}*{domain_name}{tld})"
    path_char = ci_class(
        "a-z"
        + CYRILLIC_LETTERS_AND_MARKS
        + r"0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&"
        + LATIN_ACCENT_CHARS
    )
    balanced_parens = f"\\((?:{path_char}+|(?:{path_char}*\\({path_char}+\\){path_char}*))\\)"
    path_ending_char = ci_class(
        r"\+\-a-z" + CYRILLIC_LETTERS_AND_MARKS + r"0-9=_#\/" + LATIN_ACCENT_CHARS
    )
    path_ending = f"(?:{path_ending_char}|(?:{balanced_parens}))"
    path = f"(?:(?:{path_char}*(?:{balanced_parens}{path_char}*)*{path_ending})|(?:@{path_char}+/))"
    query_char = ci_class(r"a-z0-9!?\*'@\(\);:&=\+\$\/%#\[\]\-_\.,~|")
    query_ending = ci_class(r"a-z0-9\-_&=#\/")
    protocol = f"{ci_word('http')}{ci_class('s')}?://"
    extract_url = (
        f"(({url_preceding})"  # 1: all, 2: the character before
        f"(({protocol})?"  # 3: the URL, 4: its protocol
        f"({domain})"  # 5: domain
        f"(?::([0-9]+))?"  # 6: port
        f"(/{path}*)?"  # 7: path
        f"(\\?{query_char}*{query_ending})?))"  # 8: query
    )
    tco_slug = ci_class("a-z0-9")
    valid_tco_url = f"{protocol}{ci_word('t.co')}/({tco_slug}+)(?:\\?{query_char}*{query_ending})?"
    ascii_domain_char = ci_class(r"\-a-z0-9" + LATIN_ACCENT_CHARS)
    valid_ascii_domain = f"(?:{ascii_domain_char}+\\.)+{tld}"
    # Where a URL may start: a URL holds a dot, and before its first dot only its protocol and
    # the characters of one domain label: a run of these characters (from its start) and a dot.
    label_or_protocol = char_class(
        class_codes(PUNCT + SPACES_GROUP + INVALID_CHARS_GROUP + DIRECTIONAL_MARKERS_GROUP)
        - set(map(ord, "_-:/")),
        negate=True,
    )
    before_a_dot = f"(?<!{label_or_protocol}){label_or_protocol}*+\\."

    # Hashtags: validHashtag.js and its parts, under the i flag.
    astral_letters = utf16_class_codes(ASTRAL_LETTERS_AND_MARKS)
    letters = ignore_case(class_codes(BMP_LETTERS_AND_MARKS)) | astral_letters
    alphanumerics = (
        ignore_case(class_codes(BMP_LETTERS_AND_MARKS + BMP_NUMERALS + HASHTAG_SPECIAL_CHARS))
        | astral_letters
        | utf16_class_codes(ASTRAL_NUMERALS)
    )
    alphanumeric = char_class(alphanumerics)
    # validHashtag is (hashtagBoundary)(hashSigns)(?!\uFE0F|\u20E3)(hashtagAlphaNumeric*
    # hashtagAlpha hashtagAlphaNumeric*). Here the tag is the run of alphanumerics, and a run
    # without a letter is dropped after the match: the same tags, as no hashtag can start
    # inside or at the end of such a run (its characters are neither a hash sign nor a
    # boundary: U+FE0E and U+FE0F, boundaries too, are marks, so letters here).
    valid_hashtag = (
        # 1: before (hashtagBoundary; its codePoint is any one code point), 2: sign, 3: tag
        f"(^|\\ufe0e|\\ufe0f|\\Z|(?!{alphanumeric}|&)[^\\ud800-\\udfff])"
        f"([#＃])(?!\\ufe0f|\\u20e3)"
        f"({alphanumeric}+)"
    )
    emoji = re.compile(from_utf16(TWEMOJI))
    return Patterns(
        extract_url=re.compile(extract_url),
        domain_char=re.compile(domain_char),
        valid_tco_url=re.compile(valid_tco_url),
        valid_ascii_domain=re.compile(valid_ascii_domain),
        before_a_dot=re.compile(before_a_dot),
        valid_hashtag=re.compile(valid_hashtag),
        hashtag_without_letter=re.compile(char_class(alphanumerics - letters) + "*"),
        emoji=emoji,
        # Every emoji is made of these characters: the emoji pattern runs over runs of them.
        emoji_run=re.compile(char_class(pattern_alphabet(emoji.pattern)) + "+"),
    )


# --- what the extractors return -----------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    url: str
    start: int
    end: int


@dataclass(frozen=True)
class MentionOrList:
    screen_name: str
    list_slug: str  # "/slug", or "" for a mention
    start: int
    end: int


@dataclass(frozen=True)
class Hashtag:
    hashtag: str
    start: int
    end: int


Entity = Url | MentionOrList | Hashtag


def remove_overlapping_entities(entities: list[Entity]) -> list[Entity]:
    """removeOverlappingEntities.js: by start, each entity overlapping the one kept before it
    is dropped."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if not kept or kept[-1].end <= entity.start:
            kept.append(entity)
    return kept


# --- URLs ---------------------------------------------------------------------------------------


def _utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


_NON_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_LABEL_SEPARATORS = re.compile("[.\u3002\uff0e\uff61]")


def _punycode_to_ascii(label: str) -> str:
    """punycode.js 1.4.1's toASCII (its separators split a label further)."""
    parts = []
    for part in _LABEL_SEPARATORS.split(label):
        if _NON_PRINTABLE_ASCII.search(part):
            part = "xn--" + part.encode("punycode").decode("ascii")
        parts.append(part)
    return ".".join(parts)


def _idna_to_ascii_ok(domain: str) -> bool:
    """Whether lib/idna.js's toAscii accepts ``domain``: labels of 1-63 characters once encoded."""
    if domain[:4] == "xn--" and not patterns().valid_ascii_domain.search(domain):
        return False
    for label in domain.split("."):
        try:
            encoded = _punycode_to_ascii(label)
        except UnicodeError:
            return False
        if not 1 <= len(encoded) <= MAX_DOMAIN_LABEL_LENGTH:
            return False
    return True


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    # twitter-text adds the length of the punycoded domain minus the domain's, but its toAscii
    # returns the domain unchanged: the URL's own length counts
    return _idna_to_ascii_ok(domain) and len(protocol) + _utf16_length(url) <= MAX_URL_LENGTH


def _url_matches(text: str) -> Iterator[re.Match[str]]:
    """extractUrl's matches in ``text``, as ``finditer`` finds them, trying only positions
    before a dot from which a URL could reach it (the start of the protocol and domain label
    before the dot, or the character before them), and only before a dot a domain goes on
    after."""
    compiled = patterns()
    extract_url, domain_char = compiled.extract_url, compiled.domain_char
    next_start = 0
    for window in compiled.before_a_dot.finditer(text):
        dot = window.end() - 1
        if not domain_char.match(text, dot + 1):
            continue  # the end of a sentence: no label or domain follows this dot
        position = max(next_start, window.start() - 1)
        while position <= dot:
            match = extract_url.match(text, position)
            if match:
                yield match
                next_start = match.end()
                break
            position += 1
        else:
            next_start = max(next_start, dot + 1)


def extract_urls_with_indices(text: str) -> list[Url]:
    """extractUrlsWithIndices.js (with URLs without a protocol): each URL and where it is."""
    return list(_urls(text)) if "." in text else []


@lru_cache(maxsize=256)
def _urls(text: str) -> tuple[Url, ...]:
    """The URLs of ``text``, remembered for a while: a posted tweet's text is measured, then
    its URLs are shortened, its hashtags and mentions found (each asks for its URLs)."""
    urls: list[Url] = []
    for match in _url_matches(text):
        before, url, protocol, domain, path = match[2], match[3], match[4], match[5], match[7]
        end = match.end()
        start = end - len(url)
        if not _is_valid_url(url, protocol or DEFAULT_PROTOCOL, domain):
            continue
        if not protocol:
            if before and before[-1] in "-_./":  # invalidUrlWithoutProtocolPrecedingChars
                continue
            # only ASCII domains without a protocol
            found: list[Url] = []
            ascii_end = 0
            for ascii_match in patterns().valid_ascii_domain.finditer(domain):
                ascii_domain = ascii_match[0]
                ascii_start = domain.find(ascii_domain, ascii_end)
                ascii_end = ascii_start + len(ascii_domain)
                found.append(Url(ascii_domain, start + ascii_start, start + ascii_end))
            if not found:
                continue
            if path:  # the last domain takes the path and query along
                last = found[-1]
                found[-1] = Url(url.replace(domain, last.url, 1), last.start, end)
            urls.extend(found)
        else:
            tco = patterns().valid_tco_url.match(url)
            if tco:  # a t.co URL takes no further path
                if len(tco[1]) > MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco[0]
                end = start + len(url)
            urls.append(Url(url, start, end))
    return tuple(urls)


# --- mentions, lists and hashtags ---------------------------------------------------------------


_AT_SIGN = re.compile("[@＠]")


def _mention_matches(text: str) -> Iterator[re.Match[str]]:
    """VALID_MENTION_OR_LIST's matches in ``text``, as ``finditer`` finds them, trying only
    where one can start: at most four characters before an at sign (`` RT:@``)."""
    next_start = 0
    for sign in _AT_SIGN.finditer(text):
        at = sign.start()
        for position in range(max(next_start, at - 4), at + 1):
            if match := VALID_MENTION_OR_LIST.match(text, position):
                next_start = match.end()
                yield match
                break
        else:
            next_start = max(next_start, at + 1)


def extract_mentions_or_lists_with_indices(text: str) -> list[MentionOrList]:
    """extractMentionsOrListsWithIndices.js: ``@name`` and ``@name/list``, the at sign included
    in the indices."""
    if "@" not in text and "＠" not in text:
        return []
    found: list[MentionOrList] = []
    for match in _mention_matches(text):
        if END_MENTION_MATCH.match(text, match.end()):
            continue  # "@name@", "@namé", "@name://": an address, not a mention
        slug = match[4] or ""
        start = match.start() + len(match[1])
        found.append(MentionOrList(match[3], slug, start, start + 1 + len(match[3]) + len(slug)))
    return found


def extract_mentions_with_indices(text: str) -> list[MentionOrList]:
    """extractMentionsWithIndices.js: the mentions, lists left out."""
    return [m for m in extract_mentions_or_lists_with_indices(text) if not m.list_slug]


_HASH_SIGN = re.compile("[#＃]")


def _hashtag_matches(text: str, valid_hashtag: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """valid_hashtag's matches in ``text``, as ``finditer`` finds them, trying only where one
    can start: a hash sign's boundary is the character before it (or the start of the text)."""
    next_start = 0
    for sign in _HASH_SIGN.finditer(text):
        position = max(sign.start() - 1, 0)
        if position < next_start:
            continue  # that character ends the hashtag before; the next sign's try covers it
        if match := valid_hashtag.match(text, position):
            next_start = match.end()
            yield match


def extract_hashtags_with_indices(text: str, *, check_url_overlap: bool = True) -> list[Hashtag]:
    """extractHashtagsWithIndices.js: each hashtag (without its sign) and where it is, the
    sign included; none inside a URL."""
    if "#" not in text and "＃" not in text:
        return []
    tags: list[Hashtag] = []
    compiled = patterns()
    for match in _hashtag_matches(text, compiled.valid_hashtag):
        if compiled.hashtag_without_letter.fullmatch(match[3]):
            continue  # all digits (or joiners): not a hashtag
        if END_HASHTAG_MATCH.match(text, match.end()):
            continue
        start = match.start() + len(match[1])
        tags.append(Hashtag(match[3], start, start + 1 + len(match[3])))
    if check_url_overlap and tags:
        urls = extract_urls_with_indices(text)
        if urls:
            entities = remove_overlapping_entities([*tags, *urls])
            tags = [e for e in entities if isinstance(e, Hashtag)]
    return tags


# --- weighted length (parseTweet.js, configs.js) ------------------------------------------------


@dataclass(frozen=True)
class WeightRange:
    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class Config:
    """A twitter-text configuration (config/v2.json, config/v3.json)."""

    version: int
    max_weighted_tweet_length: int
    scale: int
    default_weight: int
    ranges: tuple[WeightRange, ...]
    transformed_url_length: int
    emoji_parsing_enabled: bool


_V2_RANGES = (
    WeightRange(0x0000, 0x10FF, 100),
    WeightRange(0x2000, 0x200D, 100),
    WeightRange(0x2010, 0x201F, 100),
    WeightRange(0x2032, 0x2037, 100),
)
CONFIG_V1 = Config(1, 140, 1, 1, (), 23, emoji_parsing_enabled=False)
CONFIG_V2 = Config(2, 280, 100, 200, _V2_RANGES, 23, emoji_parsing_enabled=False)
CONFIG_V3 = Config(3, 280, 100, 200, _V2_RANGES, 23, emoji_parsing_enabled=True)


@dataclass(frozen=True)
class ParsedTweet:
    weighted_length: int
    valid: bool  # no invalid character, weighted length 1 to the maximum
    permillage: int  # of the maximum weighted length


@cache
def _weighers(config: Config) -> tuple[int | None, tuple[tuple[re.Pattern[str], int], ...]]:
    """The weight of every ASCII character if they all weigh the same (else None), and a
    pattern of runs of the characters of each weight other than the default, with that weight."""
    by_weight: dict[int, set[int]] = {}
    for weight_range in config.ranges:  # the first range holding a character gives its weight
        codes = set(range(weight_range.start, weight_range.end + 1))
        codes -= {c for held in by_weight.values() for c in held}
        by_weight.setdefault(weight_range.weight, set()).update(codes)
    ascii_weights = {
        next((w for w, codes in by_weight.items() if c in codes), config.default_weight)
        for c in range(0x80)
    }
    patterns = tuple(
        (re.compile(char_class(codes) + "+"), weight)
        for weight, codes in by_weight.items()
        if codes and weight != config.default_weight
    )
    return (ascii_weights.pop() if len(ascii_weights) == 1 else None), patterns


def _weight(text: str, config: Config) -> int:
    """The summed weight of ``text``'s characters (getCharacterWeight.js, for each)."""
    ascii_weight, patterns = _weighers(config)
    if ascii_weight is not None and text.isascii():
        return len(text) * ascii_weight
    total = len(text) * config.default_weight
    for pattern, weight in patterns:
        total += sum(map(len, pattern.findall(text))) * (weight - config.default_weight)
    return total


# Every emoji of more than one code point holds one of these: a zero-width joiner, the emoji
# presentation selector, the combining keycap, a skin tone, a second regional indicator (flags),
# a tag character (subdivision flags). An emoji of one code point weighs the default weight as
# that character does, so only runs holding one of these change a weighted length.
_EMOJI_JOINERS = re.compile(
    "[\u200d\ufe0f\u20e3\U0001f3fb-\U0001f3ff\U0001f1e6-\U0001f1ff\U000e0020-\U000e007f]"
)


def emoji_spans(text: str, *, longer_only: bool = False) -> list[tuple[int, int]]:
    """Where twemoji-parser finds emoji in ``text``, as its ``parse`` scans: (start, end) each;
    with ``longer_only``, some of those of one code point may be left out."""
    if text.isascii() or (longer_only and not _EMOJI_JOINERS.search(text)):
        return []
    spans: list[tuple[int, int]] = []
    compiled = patterns()
    for run in compiled.emoji_run.finditer(text):
        if longer_only and not _EMOJI_JOINERS.search(text, run.start(), run.end()):
            continue
        spans.extend(m.span() for m in compiled.emoji.finditer(text, run.start(), run.end()))
    return spans


def parse_tweet(text: str, config: Config = CONFIG_V3) -> ParsedTweet:
    """parseTweet.js: the weighted length of ``text`` (NFC first) and whether it makes a tweet.

    Going through the text, a URL starting where the count is counts ``transformed_url_length``,
    else an emoji sequence starting there counts ``default_weight``, else the character its
    range's weight; each is divided by ``scale``.
    """
    normalized = (
        text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    )
    # (start, 0 for a URL and 1 for an emoji: a URL wins where both start, end, weight)
    entities = [
        (url.start, 0, url.end, config.transformed_url_length * config.scale)
        for url in extract_urls_with_indices(normalized)
    ]
    if config.emoji_parsing_enabled:
        emoji = emoji_spans(normalized, longer_only=True)
        entities = sorted([*entities, *((s, 1, e, config.default_weight) for s, e in emoji)])
    total = _weight(normalized, config)
    counted_to = 0
    for start, _, end, weight in entities:
        if start < counted_to:
            continue  # inside a URL or an emoji already counted
        total += weight - _weight(normalized[start:end], config)
        counted_to = end
    weighted_length = total // config.scale
    maximum = config.max_weighted_tweet_length
    return ParsedTweet(
        weighted_length=weighted_length,
        valid=0 < weighted_length <= maximum and not INVALID_CHARS.search(normalized),
        permillage=math.floor(weighted_length / maximum * 1000),
    )
