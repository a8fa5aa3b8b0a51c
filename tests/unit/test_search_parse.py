"""The search box's language (core/search.py): what each query means, and what is refused.

Each table row is one query and what it must parse to, or the error it must get;
the error tables check the message says what is wrong, not only that it failed.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import BadUserInput
from core.search import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    ParsedSearch,
    fold,
    parse_search,
    text_matches,
    word_tokens,
)

# --- what a query means ---------------------------------------------------------------

PARSES: list[tuple[str, ParsedSearch]] = [
    ("cat", ParsedSearch(words=("cat",))),
    ("  cat   dog  ", ParsedSearch(words=("cat", "dog"))),
    # words keep their spelling (NFC): each engine folds case and accents itself
    ("Café", ParsedSearch(words=("Café",))),
    ("cafe\u0301", ParsedSearch(words=("Café".lower(),))),
    ("Straße", ParsedSearch(words=("Straße",))),
    # the same word twice, in any case or accent, is one word (the first spelling)
    ("cafe Café CAFE", ParsedSearch(words=("cafe",))),
    ('"new york"', ParsedSearch(phrases=(("new", "york"),))),
    ("“new york”", ParsedSearch(phrases=(("new", "york"),))),
    ('"New York" "new   york"', ParsedSearch(phrases=(("New", "York"),))),
    # a quoted single word is that word
    ('"cat"', ParsedSearch(words=("cat",))),
    # punctuation inside a word splits it as the tokenizers do: a phrase of the parts
    ("don't", ParsedSearch(phrases=(("don", "t"),))),
    ("e-mail", ParsedSearch(phrases=(("e", "mail"),))),
    ("example.com", ParsedSearch(phrases=(("example", "com"),))),
    ("10:30", ParsedSearch(phrases=(("10", "30"),))),
    ("https://example.com/a", ParsedSearch(phrases=(("https", "example", "com", "a"),))),
    # _ stays inside a word; leading and trailing punctuation goes
    ("foo_bar", ParsedSearch(words=("foo_bar",))),
    ("(cat),", ParsedSearch(words=("cat",))),
    ("@chirp", ParsedSearch(words=("chirp",))),
    # symbols and emoji alone are left out
    ("cats & dogs 🐦", ParsedSearch(words=("cats", "dogs"))),
    ("I❤NY", ParsedSearch(phrases=(("I", "NY"),))),
    # a quote ends a bare term
    ('a"b c"', ParsedSearch(words=("a",), phrases=(("b", "c"),))),
    ("-cat dog", ParsedSearch(words=("dog",), excluded=("cat",))),
    ('dog -"hot dog"', ParsedSearch(words=("dog",), excluded_phrases=(("hot", "dog"),))),
    ("dog -don't", ParsedSearch(words=("dog",), excluded_phrases=(("don", "t"),))),
    ("well-known", ParsedSearch(phrases=(("well", "known"),))),
    ("#Chirp", ParsedSearch(hashtags=("chirp",))),
    ("＃Chirp", ParsedSearch(hashtags=("chirp",))),
    ("#Straße", ParsedSearch(hashtags=("strasse",))),  # case-folded as Tweet.hashtags
    ("#chirp, #CHIRP #news", ParsedSearch(hashtags=("chirp", "news"))),
    ("#日本語", ParsedSearch(hashtags=("日本語",))),
    ("#chirp chirp", ParsedSearch(words=("chirp",), hashtags=("chirp",))),
    ("from:alice", ParsedSearch(from_handles=("alice",))),
    ("from:@Alice FROM:bob from:ALICE", ParsedSearch(from_handles=("Alice", "bob"))),
    ("since:2024-03-01", ParsedSearch(since=date(2024, 3, 1))),
    ("until:2024-03-02", ParsedSearch(until=date(2024, 3, 2))),
    (
        "cat since:2024-02-28 until:2024-03-01",
        ParsedSearch(words=("cat",), since=date(2024, 2, 28), until=date(2024, 3, 1)),
    ),
    # other name:value terms are text
    ("note:cats", ParsedSearch(phrases=(("note", "cats"),))),
    (
        '#chirp from:alice "big news" -rumour since:2024-01-01',
        ParsedSearch(
            phrases=(("big", "news"),),
            excluded=("rumour",),
            hashtags=("chirp",),
            from_handles=("alice",),
            since=date(2024, 1, 1),
        ),
    ),
    ("東京タワー", ParsedSearch(words=("東京タワー",))),
    ("x" * MAX_QUERY_LENGTH, ParsedSearch(words=("x" * MAX_QUERY_LENGTH,))),
    (
        " ".join(f"w{n}" for n in range(MAX_TERMS)),
        ParsedSearch(words=tuple(f"w{n}" for n in range(MAX_TERMS))),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PARSES, ids=[row[0][:40] for row in PARSES])
def test_a_query_parses_to_what_it_means(text: str, expected: ParsedSearch) -> None:
    assert parse_search(text) == expected


def test_since_is_inclusive_and_until_exclusive_at_midnight_utc() -> None:
    parsed = parse_search("since:2024-03-01 until:2024-03-02")
    assert parsed.since_ms == 1_709_251_200_000  # 2024-03-01T00:00:00Z
    assert parsed.until_ms == 1_709_337_600_000  # 2024-03-02T00:00:00Z: that day is left out
    assert parse_search("cat").since_ms is None
    assert parse_search("cat").until_ms is None


# --- what is refused, and the message that says why ------------------------------------

REFUSED: list[tuple[str, str]] = [
    ("", "Type something to search for"),
    ("   \t ", "Type something to search for"),
    ("x" * (MAX_QUERY_LENGTH + 1), f"at most {MAX_QUERY_LENGTH} characters; this one is 501"),
    (" ".join(["w"] * (MAX_TERMS + 1)), f"at most {MAX_TERMS} terms; this one has 21"),
    ('"new york', 'Unclosed quote: "new york has no closing quote'),
    ('cat -"hot dog', 'Unclosed quote: -"hot dog has no closing quote'),
    ("-", 'A lone "-" excludes nothing'),
    ("cat - dog", 'A lone "-" excludes nothing'),
    ("cat -!!", "-!! excludes nothing"),
    ('cat -""', '-"" excludes nothing'),
    ("-cat", "-cat only excludes: add a word"),
    ('-cat -"hot dog"', "only excludes"),
    ("!!! 🐦", "has nothing to search for"),
    ('""', "has nothing to search for"),
    ("cat -CAT", "cat is both searched for and excluded (-CAT)"),
    ('"hot dog" -"Hot Dog"', '"hot dog" is both searched for and excluded'),
    ("from:", "from: needs a handle after the colon"),
    ("from:@", "from:@ needs a handle after the colon"),
    ("from:ali-ce", "from:ali-ce: a handle is 1 to 15 letters"),
    ("from:abcdefghijklmnop", "a handle is 1 to 15 letters"),
    ("-from:alice cat", "excluding with -from: is not supported"),
    ("since:2024-3-1", "since:2024-3-1 is not a date: write since:YYYY-MM-DD"),
    ("since:2024-02-30", "since:2024-02-30 is not a date"),
    ("until:yesterday", "until:yesterday is not a date: write until:YYYY-MM-DD"),
    ("since:", "since: is not a date"),
    ("since:２０２４-01-01", "is not a date"),  # full-width digits are not YYYY-MM-DD
    ("since:2024-01-01 since:2024-02-01", "since: appears twice"),
    ("since:2024-03-02 until:2024-03-01", "since:2024-03-02 is not before until:2024-03-01"),
    ("since:2024-03-01 until:2024-03-01", "until: is exclusive"),
    ("#", "# is not a hashtag"),
    ("#123", "#123 is not a hashtag: a hashtag is # then letters, digits or _, not only digits"),
    ("#foo-bar", "#foo-bar is not a hashtag"),
    ("#foo#bar", "#foo#bar is not a hashtag"),
    ("-#chirp", "excluding a hashtag is not supported; -chirp excludes the word"),
    ("to:alice", "to: is not supported. Search understands words"),
    ("cat lang:en", "lang: is not supported"),
    ("filter:links", "filter: is not supported"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[row[0][:40] for row in REFUSED])
def test_a_bad_query_is_refused_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        parse_search(text)
    assert message in refused.value.message
    assert refused.value.code == "BAD_USER_INPUT"


@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_as_bad_input_nothing_else(text: str) -> None:
    try:
        parsed = parse_search(text)
    except BadUserInput:
        return
    for word in parsed.words:
        assert word_tokens(word) == [word]  # a word is exactly one word
    for phrase in parsed.phrases:
        assert len(phrase) >= 2


# --- what a word is, and the whole-word rule -------------------------------------------

TOKENS: list[tuple[str, list[str]]] = [
    ("Hello, world!", ["Hello", "world"]),
    ("don't don’t", ["don", "t", "don", "t"]),
    ("#chirp @alice", ["chirp", "alice"]),
    ("foo_bar __ _x", ["foo_bar", "_x"]),  # _ joins; a run of only _ is no word
    ("cat🐱dog", ["cat", "dog"]),
    ("naïve café", ["naïve", "café"]),
    ("cafe\u0301", ["cafe\u0301"]),  # a combining mark stays on its letter
    ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),
    ("東京タワー 行った。", ["東京タワー", "行った"]),
    ("3.14 x² ⅻ", ["3", "14", "x²", "ⅻ"]),
    ("\u200bzero\u200bwidth", ["zero", "width"]),
]


@pytest.mark.parametrize(("text", "tokens"), TOKENS, ids=[row[0] for row in TOKENS])
def test_words_are_runs_of_letters_digits_marks_and_underscores(
    text: str, tokens: list[str]
) -> None:
    assert word_tokens(text) == tokens


FOLDS: list[tuple[str, str]] = [
    ("Café", "cafe"),
    ("CAFÉ", "cafe"),
    ("cafe\u0301", "cafe"),
    ("Straße", "strasse"),
    ("καφές", "καφεσ"),
    ("ｃａｆｅ", "cafe"),
]


@pytest.mark.parametrize(("word", "folded"), FOLDS, ids=[row[0] for row in FOLDS])
def test_fold_ignores_case_accents_and_compatibility_forms(word: str, folded: str) -> None:
    assert fold(word) == folded


# (text, words, phrases, excluded, excluded phrases, matches)
MATCHES: list[
    tuple[
        str, tuple[str, ...], tuple[tuple[str, ...], ...], tuple[str, ...],
        tuple[tuple[str, ...], ...], bool,
    ]
] = [
    ("Café au lait", ("cafe",), (), (), (), True),
    ("concatenate", ("cat",), (), (), (), False),
    ("dog concatenate", ("cat", "dog"), (), (), (), False),
    ("the cat and the dog", ("dog", "cat"), (), (), (), True),
    ("New-York city", (), (("new", "york"),), (), (), True),
    ("york new", (), (("new", "york"),), (), (), False),
    ("renew yorkshire", (), (("new", "york"),), (), (), False),
    ("don’t stop", ("don't",), (), (), (), True),
    ("brulee recipe", ("brulee",), (), ("recipe",), (), False),
    ("brulee only", ("brulee",), (), ("recipe",), (), True),
    ("hot dog stand", ("stand",), (), (), (("hot", "dog"),), False),
    ("dog is hot", ("dog",), (), (), (("hot", "dog"),), True),
    ("#chirp rocks", ("chirp",), (), (), (), True),
    ("!!!", ("!!!",), (), (), (), False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words", "phrases", "excluded", "excluded_phrases", "matches"),
    MATCHES,
    ids=[f"{row[0]}-{row[1]}" for row in MATCHES],
)
def test_text_matches_whole_words_adjacent_phrases_and_no_exclusion(
    text: str,
    words: tuple[str, ...],
    phrases: tuple[tuple[str, ...], ...],
    excluded: tuple[str, ...],
    excluded_phrases: tuple[tuple[str, ...], ...],
    matches: bool,
) -> None:
    assert text_matches(text, words, phrases, excluded, excluded_phrases) is matches
