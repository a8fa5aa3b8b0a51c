r"""The search box's language: ``parse_search(text) -> ParsedSearch``.

Terms are separated by whitespace::

    word              the tweet has this word (every word of the query must match)
    "a phrase"        these words, adjacent, in this order ("..." “...” „...“ ＂...＂)
    -word  -"a b"     the tweet does not have this word / phrase
    #tag  ＃tag       the tweet carries this hashtag (an exact, case-folded match on the
                      hashtags Chirp stored for it, not a text search)
    from:handle       posted by this user (from:@handle too); several: by any of them
    since:YYYY-MM-DD  posted on or after that day, from midnight UTC (inclusive)
    until:YYYY-MM-DD  posted before that day, midnight UTC (exclusive, as Twitter's until:)

Operators are case-insensitive (``FROM:chirp``). Twitter's other operators
(``to:``, ``lang:``, ``filter:``...) are refused by name rather than searched as
text; any other ``name:value`` is text (``10:30`` is the phrase "10 30").

What a word is (``word_tokens``): a run of letters, digits, combining marks and
connector punctuation (``_``) that holds at least one letter or digit. Every
other character separates words: spaces, punctuation (apostrophes, hyphens,
dots, ``#``, ``@``...), symbols and emoji. A term that splits into several words
is searched as the phrase of those words, as the engines' tokenizers read the
text: ``don't`` is "don t" (it finds ``don't`` and ``don’t``), ``e-mail`` is
"e mail", ``example.com`` is "example com", ``@chirp`` is the word ``chirp``. A
term without a letter or digit (``&``, ``—``, ``🐦``) is left out: neither
engine indexes symbols or emoji as words. ``_`` stays inside a word, as
MongoDB's tokenizer keeps it (SQLite FTS5 splits ``foo_bar`` into the phrase
"foo bar", which still finds ``foo_bar``).

A bare word also matches a hashtag's text: ``#chirp`` in a tweet is the word
``chirp`` to both engines (``#`` separates words), as Twitter's search does. The
term ``#chirp`` asks for the hashtag only: it does not find "chirp" in a tweet
that has no such hashtag.

Case and accents: the words keep the spelling of the query (NFC, as tweets are
stored). Each engine folds the query's words exactly as it folds the tweets'
text, so the match is symmetric: both fold case, and both ignore Latin accents
(``cafe`` finds ``Café`` and ``CAFÉ``). Folding here instead would break
matches the engines make: ``str.casefold`` turns ``ß`` into ``ss`` (neither
engine does), and stripping every combining mark changes Japanese kana
(``が`` to ``か``) and Indic words. ``fold`` is used only to compare words with
each other (duplicates, a word both wanted and excluded) and by ``text_matches``,
which folds both sides the same way.

``text_matches`` is the whole-word rule as Chirp states it, for an adapter whose
engine can only narrow the candidates down (MongoDB's quoted terms match
substrings: search/mongo.py).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from core.errors import BadUserInput
from core.text import HANDLE_RE, clean_text
from core.twitter_text import extract_hashtags_with_indices

MAX_QUERY_LENGTH = 500
MAX_TERMS = 20

QUOTES = frozenset('"“”„＂')
# Twitter search operators Chirp does not implement: refused by name, never searched as text.
UNSUPPORTED_OPERATORS = frozenset(
    {
        "to", "lang", "filter", "is", "has", "near", "within", "url", "list", "place",
        "min_retweets", "min_faves", "min_replies", "conversation_id", "since_id",
        "max_id", "since_time", "until_time", "exclude", "include", "source", "card_name",
    }
)  # fmt: skip
SYNTAX_HELP = (
    'Search understands words, "phrases", -word, -"phrase", #hashtag, from:handle, '
    "since:YYYY-MM-DD and until:YYYY-MM-DD."
)

_OPERATOR = re.compile(r"([A-Za-z_]+):(.*)", re.DOTALL)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- words ------------------------------------------------------------------------


def _is_word_character(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LNM" or category in ("Pc", "Co")


def _has_letter_or_digit(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def word_tokens(text: str) -> list[str]:
    """The words of ``text`` in order, as written (see the module docstring)."""
    tokens: list[str] = []
    start: int | None = None
    for index, ch in enumerate(text):
        if _is_word_character(ch):
            if start is None:
                start = index
        elif start is not None:
            tokens.append(text[start:index])
            start = None
    if start is not None:
        tokens.append(text[start:])
    return [token for token in tokens if _has_letter_or_digit(token)]


def fold(word: str) -> str:
    """A word's comparison key: case-folded, compatibility-decomposed, without
    nonspacing or enclosing marks (accents). Coarser than either engine's folding."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))
    )


def folded_tokens(text: str) -> list[str]:
    return [fold(token) for token in word_tokens(text)]


def _run(words: tuple[str, ...]) -> tuple[str, ...]:
    """The folded words of ``words`` in order, each split as text is."""
    return tuple(fold(token) for word in words for token in word_tokens(word))


def text_matches(
    text: str,
    words: tuple[str, ...] = (),
    phrases: tuple[tuple[str, ...], ...] = (),
    excluded: tuple[str, ...] = (),
    excluded_phrases: tuple[tuple[str, ...], ...] = (),
) -> bool:
    """Whether ``text`` has every word (a whole word) and every phrase (its words
    adjacent, in order), and none of the excluded words and phrases, comparing
    ``fold``-ed words on both sides. A word that splits into several (``don't``)
    is the phrase of them; one with no word in it matches nothing."""
    tokens = folded_tokens(text)
    present = set(tokens)

    def has(run: tuple[str, ...]) -> bool:
        if len(run) == 1:
            return run[0] in present
        width = len(run)
        return bool(run) and any(
            tuple(tokens[i : i + width]) == run for i in range(len(tokens) - width + 1)
        )

    wanted = [_run((word,)) for word in words] + [_run(phrase) for phrase in phrases]
    unwanted = [_run((word,)) for word in excluded] + [_run(phrase) for phrase in excluded_phrases]
    return all(has(run) for run in wanted) and not any(has(run) for run in unwanted)


# --- the query ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedSearch:
    words: tuple[str, ...] = ()  # single words (word_tokens), as written
    phrases: tuple[tuple[str, ...], ...] = ()  # two words or more each
    excluded: tuple[str, ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    hashtags: tuple[str, ...] = ()  # case-folded, without '#'
    from_handles: tuple[str, ...] = ()  # as written, without '@'; any of them
    since: date | None = None  # inclusive, from 00:00 UTC
    until: date | None = None  # exclusive, from 00:00 UTC

    @property
    def since_ms(self) -> int | None:
        return None if self.since is None else _midnight_ms(self.since)

    @property
    def until_ms(self) -> int | None:
        return None if self.until is None else _midnight_ms(self.until)


def _midnight_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class _Term:
    raw: str  # as written, quotes and '-' included (for error messages)
    body: str  # without the '-' and the quotes
    negated: bool
    quoted: bool


def _terms(text: str) -> list[_Term]:
    """Split the query into terms: whitespace separates them, a quote opens a
    phrase that runs to the next quote, a '-' right before a term negates it."""
    terms: list[_Term] = []
    index, end = 0, len(text)
    while index < end:
        if text[index].isspace():
            index += 1
            continue
        start = index
        negated = text[index] == "-"
        if negated:
            index += 1
            if index == end or text[index].isspace():
                raise BadUserInput(
                    'A lone "-" excludes nothing: write -word or -"a phrase", '
                    'with no space after the "-".'
                )
        if text[index] in QUOTES:
            close = next((i for i in range(index + 1, end) if text[i] in QUOTES), None)
            if close is None:
                raise BadUserInput(
                    f"Unclosed quote: {text[start:]} has no closing quote. "
                    'Close the phrase with a second ", like "new york".'
                )
            terms.append(_Term(text[start : close + 1], text[index + 1 : close], negated, True))
            index = close + 1
            continue
        stop = index
        while stop < end and not text[stop].isspace() and text[stop] not in QUOTES:
            stop += 1
        terms.append(_Term(text[start:stop], text[index:stop], negated, False))
        index = stop
    return terms


def _hashtag(term: _Term) -> str:
    """The case-folded tag of a ``#tag`` term (trailing punctuation allowed: ``#tag,``)."""
    found = extract_hashtags_with_indices(term.body, check_url_overlap=False)
    if found and found[0].start == 0 and not word_tokens(term.body[found[0].end :]):
        return found[0].hashtag.casefold()
    raise BadUserInput(
        f"{term.raw} is not a hashtag: a hashtag is # then letters, digits or _, "
        "not only digits, like #chirp."
    )


def _handle(term: _Term, value: str) -> str:
    handle = value[1:] if value.startswith("@") else value
    if not handle:
        raise BadUserInput(f"{term.raw} needs a handle after the colon, like from:chirp.")
    if not HANDLE_RE.fullmatch(handle):
        raise BadUserInput(
            f"{term.raw}: a handle is 1 to 15 letters (a-z), digits or _, like from:chirp."
        )
    return handle


def _day(term: _Term, name: str, value: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise BadUserInput(
        f"{term.raw} is not a date: write {name}:YYYY-MM-DD, for example {name}:2024-03-01."
    )


class _Builder:
    """The parsed query as it accumulates, each kind of term deduplicated."""

    def __init__(self) -> None:
        self.words: dict[str, str] = {}  # fold -> as first written
        self.phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.excluded: dict[str, str] = {}
        self.excluded_phrases: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.hashtags: dict[str, None] = {}
        self.handles: dict[str, str] = {}  # lower-cased -> as written
        self.since: date | None = None
        self.until: date | None = None
        self.ignored: list[str] = []

    def text(self, term: _Term) -> None:
        tokens = word_tokens(term.body)
        if not tokens:
            if term.negated:
                raise BadUserInput(
                    f"{term.raw} excludes nothing: there is no word (letters or digits) "
                    "after the -."
                )
            self.ignored.append(term.raw)
            return
        if len(tokens) == 1:
            target = self.excluded if term.negated else self.words
            target.setdefault(fold(tokens[0]), tokens[0])
        else:
            phrases = self.excluded_phrases if term.negated else self.phrases
            phrases.setdefault(tuple(fold(token) for token in tokens), tuple(tokens))

    def operator(self, term: _Term, name: str, value: str) -> None:
        if term.negated:
            raise BadUserInput(f"{term.raw}: excluding with -{name}: is not supported.")
        if name == "from":
            handle = _handle(term, value)
            self.handles.setdefault(handle.lower(), handle)
            return
        day = _day(term, name, value)
        if getattr(self, name) is not None:
            raise BadUserInput(f"{name}: appears twice: give one {name}:YYYY-MM-DD.")
        setattr(self, name, day)

    def build(self, text: str) -> ParsedSearch:
        for key, word in self.words.items():
            if key in self.excluded:
                raise BadUserInput(
                    f"{word} is both searched for and excluded (-{self.excluded[key]}): "
                    "no tweet can match."
                )
        for folded, phrase in self.phrases.items():
            if folded in self.excluded_phrases:
                raise BadUserInput(
                    f'"{" ".join(phrase)}" is both searched for and excluded: no tweet can match.'
                )
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise BadUserInput(
                f"since:{self.since.isoformat()} is not before until:{self.until.isoformat()}, "
                "so no tweet can match: until: is exclusive (tweets posted before that day), "
                "since: inclusive."
            )
        parsed = ParsedSearch(
            words=tuple(self.words.values()),
            phrases=tuple(self.phrases.values()),
            excluded=tuple(self.excluded.values()),
            excluded_phrases=tuple(self.excluded_phrases.values()),
            hashtags=tuple(self.hashtags),
            from_handles=tuple(self.handles.values()),
            since=self.since,
            until=self.until,
        )
        positive = (
            parsed.words
            or parsed.phrases
            or parsed.hashtags
            or parsed.from_handles
            or parsed.since
            or parsed.until
        )
        if positive:
            return parsed
        if parsed.excluded or parsed.excluded_phrases:
            raise BadUserInput(
                f"{text} only excludes: add a word, a phrase, a #hashtag or from:handle "
                "to search for."
            )
        raise BadUserInput(
            f"{text} has nothing to search for: search finds words and numbers, "
            "not punctuation, symbols or emoji alone. " + SYNTAX_HELP
        )


def parse_search(text: str) -> ParsedSearch:
    """The query typed in the search box, or BadUserInput saying exactly what is wrong."""
    query = clean_text(text, keep_newlines=False)
    if not query:
        raise BadUserInput("Type something to search for. " + SYNTAX_HELP)
    if len(query) > MAX_QUERY_LENGTH:
        raise BadUserInput(
            f"A search is at most {MAX_QUERY_LENGTH} characters; this one is {len(query)}."
        )
    terms = _terms(query)
    if len(terms) > MAX_TERMS:
        raise BadUserInput(f"A search has at most {MAX_TERMS} terms; this one has {len(terms)}.")
    builder = _Builder()
    for term in terms:
        if term.quoted:
            builder.text(term)
        elif term.body[0] in "#＃":
            if term.negated:
                raise BadUserInput(
                    f"{term.raw}: excluding a hashtag is not supported; "
                    f"-{term.body[1:]} excludes the word, hashtags included."
                )
            builder.hashtags.setdefault(_hashtag(term), None)
        elif (match := _OPERATOR.fullmatch(term.body)) and (
            (name := match[1].lower()) in ("from", "since", "until")
            or name in UNSUPPORTED_OPERATORS
        ):
            if name in UNSUPPORTED_OPERATORS:
                raise BadUserInput(f"{name}: is not supported. " + SYNTAX_HELP)
            builder.operator(term, name, match[2])
        else:
            builder.text(term)
    return builder.build(query)
