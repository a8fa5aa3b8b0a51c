"""twitter-text's conformance suite through Chirp's text rules (core/twitter_text.py, core/text.py).

The suite is twitter-text's own (``tests/conformance/twitter_text/``, see its README): each case a
text and what twitter-text answers for it. Every case of each section Chirp has an API for runs,
twice where Chirp's public functions shape the answer (lower-cased, unique mentions; case-folded
hashtags; ``validate_tweet_text`` with Chirp's stricter safety rules). A section or case left out
is skipped here with the reason, so that it shows in the test report.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from core import twitter_text
from core.errors import UserError
from core.text import (
    extract_hashtags,
    extract_mentions,
    find_urls,
    validate_tweet_text,
    weighted_length,
)
from core.twitter_text import (
    CONFIG_V1,
    CONFIG_V2,
    CONFIG_V3,
    Config,
    extract_hashtags_with_indices,
    extract_mentions_or_lists_with_indices,
    extract_mentions_with_indices,
    extract_urls_with_indices,
    parse_tweet,
)
from core.twitter_text_data import COUNTRY_TLDS, GENERIC_TLDS

SUITE = Path(__file__).resolve().parents[1] / "conformance" / "twitter_text"

Case = dict[str, Any]


@cache
def section(file: str, name: str) -> list[Case]:
    with (SUITE / file).open(encoding="utf-8") as stream:
        tests: dict[str, list[Case]] = yaml.safe_load(stream)["tests"]
    return tests[name]


def cases(file: str, name: str, skip: dict[str, str] | None = None) -> list[Any]:
    """The section's cases as test parameters, each named by its description; those in ``skip``
    (description: reason) skipped with their reason."""
    skip = skip or {}
    params = [
        pytest.param(
            case,
            id=case["description"],
            marks=[pytest.mark.skip(reason=skip[case["description"]])]
            if case["description"] in skip
            else [],
        )
        for case in section(file, name)
    ]
    unknown = set(skip) - {case["description"] for case in section(file, name)}
    assert not unknown, f"skips naming no case of {file} {name}: {unknown}"
    return params


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def test_every_section_of_the_suite_is_run_or_skipped_with_a_reason() -> None:
    for file, names in SECTIONS.items():
        with (SUITE / file).open(encoding="utf-8") as stream:
            assert set(yaml.safe_load(stream)["tests"]) == names, file


SECTIONS = {
    "extract.yml": {
        "mentions",
        "mentions_with_indices",
        "mentions_or_lists_with_indices",
        "replies",
        "urls",
        "urls_with_indices",
        "urls_with_directional_markers",
        "tco_urls_with_params",
        "hashtags",
        "hashtags_from_astral",
        "hashtags_with_indices",
        "cashtags",
        "cashtags_with_indices",
    },
    "validate.yml": {
        "tweets",
        "usernames",
        "lists",
        "hashtags",
        "urls",
        "urls_without_protocol",
        "WeightedTweetsCounterTest",
        "WeightedTweetsWithDiscountedEmojiCounterTest",
        "UnicodeDirectionalMarkerCounterTest",
    },
    "tlds.yml": {"country", "generic"},
}


@pytest.mark.skip(
    reason="cashtags ($TWTR), replies (the @name a tweet starts with) and isValidUrl (one URL "
    "typed alone, as in a profile's website field): Chirp has none of these (a reply names "
    "its tweet in the API, not in its text); URL rules are checked by extract.yml's URL "
    "sections and tlds.yml"
)
@pytest.mark.parametrize(
    ("file", "name"),
    [
        ("extract.yml", "cashtags"),
        ("extract.yml", "cashtags_with_indices"),
        ("extract.yml", "replies"),
        ("validate.yml", "urls"),
        ("validate.yml", "urls_without_protocol"),
    ],
)
def test_sections_chirp_has_no_api_for(file: str, name: str) -> None:
    raise AssertionError("skipped")


# --- mentions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("extract.yml", "mentions"))
def test_mentions(case: Case) -> None:
    text, expected = case["text"], case["expected"]
    assert [m.screen_name for m in extract_mentions_with_indices(text)] == expected
    # Chirp's: lower-cased, each once (none of these texts has a mention inside a URL)
    assert extract_mentions(text) == unique([name.lower() for name in expected])


@pytest.mark.parametrize("case", cases("extract.yml", "mentions_with_indices"))
def test_mentions_with_indices(case: Case) -> None:
    found = extract_mentions_with_indices(case["text"])
    assert [{"screen_name": m.screen_name, "indices": [m.start, m.end]} for m in found] == (
        case["expected"]
    )


@pytest.mark.parametrize("case", cases("extract.yml", "mentions_or_lists_with_indices"))
def test_mentions_or_lists_with_indices(case: Case) -> None:
    found = extract_mentions_or_lists_with_indices(case["text"])
    assert [
        {"screen_name": m.screen_name, "list_slug": m.list_slug, "indices": [m.start, m.end]}
        for m in found
    ] == case["expected"]
    # a list is not a mention of its owner
    assert extract_mentions(case["text"]) == unique(
        [e["screen_name"].lower() for e in case["expected"] if not e["list_slug"]]
    )


@pytest.mark.parametrize("case", cases("validate.yml", "usernames"))
def test_valid_usernames(case: Case) -> None:
    """isValidUsername: the text is "@" and one mention of the rest."""
    text = case["text"]
    found = [m.screen_name for m in extract_mentions_with_indices(text)]
    assert (found == [text[1:]]) is case["expected"]


@pytest.mark.parametrize("case", cases("validate.yml", "lists"))
def test_valid_lists(case: Case) -> None:
    """isValidList: the whole text is one "@name/list" and nothing else."""
    text = case["text"]
    found = extract_mentions_or_lists_with_indices(text)
    whole = [(m.start, m.end) for m in found if m.list_slug] == [(0, len(text))] and len(found) == 1
    assert whole is case["expected"]


# --- hashtags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", cases("extract.yml", "hashtags") + cases("extract.yml", "hashtags_from_astral")
)
def test_hashtags(case: Case) -> None:
    text, expected = case["text"], case["expected"]
    assert [t.hashtag for t in extract_hashtags_with_indices(text)] == expected
    assert extract_hashtags(text) == unique([tag.casefold() for tag in expected])


@pytest.mark.parametrize("case", cases("extract.yml", "hashtags_with_indices"))
def test_hashtags_with_indices(case: Case) -> None:
    found = extract_hashtags_with_indices(case["text"])
    assert [{"hashtag": t.hashtag, "indices": [t.start, t.end]} for t in found] == (
        case["expected"]
    )


@pytest.mark.parametrize("case", cases("validate.yml", "hashtags"))
def test_valid_hashtags(case: Case) -> None:
    """isValidHashtag: the text is "#" and one hashtag of the rest."""
    text = case["text"]
    found = [t.hashtag for t in extract_hashtags_with_indices(text)]
    assert (found == [text[1:]]) is case["expected"]


# --- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    cases("extract.yml", "urls")
    + cases("extract.yml", "tco_urls_with_params")
    + cases("tlds.yml", "country")
    + cases("tlds.yml", "generic"),
)
def test_urls(case: Case) -> None:
    text, expected = case["text"], case["expected"]
    assert [url.url for url in extract_urls_with_indices(text)] == expected
    spans = find_urls(text)
    assert [span.url for span in spans] == expected
    assert all(text[span.start : span.end] == span.url for span in spans)


@pytest.mark.parametrize(
    "case",
    cases("extract.yml", "urls_with_indices")
    + cases("extract.yml", "urls_with_directional_markers"),
)
def test_urls_with_indices(case: Case) -> None:
    found = [{"url": s.url, "indices": [s.start, s.end]} for s in find_urls(case["text"])]
    assert found == case["expected"]


# --- weighted length and validity ---------------------------------------------------------------


def parsed(text: str, config: Config) -> dict[str, Any]:
    result = parse_tweet(text, config)
    return {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
    }


def expected_parse(case: Case) -> dict[str, Any]:
    """The fields Chirp answers: not the valid and display ranges (UTF-16 offsets a frontend
    highlights the overflow with)."""
    return {key: case["expected"][key] for key in ("weightedLength", "valid", "permillage")}


def chirp_accepts(text: str) -> bool:
    try:
        validate_tweet_text(text)
    except UserError:
        return False
    return True


@pytest.mark.parametrize("case", cases("validate.yml", "tweets"))
def test_tweets_under_the_140_character_config(case: Case) -> None:
    """This section is twitter-text's isValidTweetText with config v1 (140 characters, each
    one weighing 1), which Chirp does not use: run against that config."""
    assert parse_tweet(case["text"], CONFIG_V1).valid is case["expected"]


@pytest.mark.parametrize("case", cases("validate.yml", "WeightedTweetsCounterTest"))
def test_weighted_length_under_config_v2(case: Case) -> None:
    """Config v2 is v3 without emoji parsing (an emoji counts as its code points)."""
    assert parsed(case["text"], CONFIG_V2) == expected_parse(case)


V3_SECTIONS = (
    "WeightedTweetsWithDiscountedEmojiCounterTest",
    "UnicodeDirectionalMarkerCounterTest",
)


@pytest.mark.parametrize("case", [c for name in V3_SECTIONS for c in cases("validate.yml", name)])
def test_weighted_length_and_validity_under_config_v3(case: Case) -> None:
    assert parsed(case["text"], CONFIG_V3) == expected_parse(case)
    assert weighted_length(case["text"]) == case["expected"]["weightedLength"]


@pytest.mark.parametrize("case", [c for name in V3_SECTIONS for c in cases("validate.yml", name)])
def test_chirp_accepts_the_tweets_twitter_text_accepts(case: Case) -> None:
    """validate_tweet_text cleans the text first (trims it, drops control characters) and
    refuses more (unpaired direction controls, invisible-only text: core/text.py), none of
    which changes the answer for these texts."""
    assert chirp_accepts(case["text"]) is case["expected"]["valid"]


def test_the_suite_is_the_one_the_readme_names() -> None:
    readme = (SUITE / "README.md").read_text(encoding="utf-8")
    assert "twitter/twitter-text" in readme
    assert twitter_text.__doc__ is not None
    commit = "30e2430d90cff3b46393ea54caf511441983c260"
    assert commit in readme
    assert commit in twitter_text.__doc__


# --- what the port assumes of the upstream data -------------------------------------------------


def test_where_one_domain_starts_another_the_longer_is_tried_first() -> None:
    """The domain lists become a trie trying longer words first: right only if twitter-text's
    order does too wherever both could match (after the shorter, a character the look-ahead
    lets through)."""
    words = GENERIC_TLDS + COUNTRY_TLDS
    order = {word: index for index, word in enumerate(words)}
    for word in words:
        for longer in words:
            if longer != word and longer.startswith(word):
                next_char = longer[len(word)]
                if not (next_char.isascii() and (next_char.isalnum() or next_char in "@+-")):
                    assert order[longer] < order[word], (word, longer)


def test_an_emoji_of_one_code_point_weighs_what_its_character_weighs() -> None:
    """So parse_tweet looks only for emoji of several code points."""
    emoji = twitter_text.patterns().emoji
    alphabet = twitter_text.pattern_alphabet(emoji.pattern)
    singles = [chr(code) for code in alphabet if emoji.fullmatch(chr(code))]
    assert len(singles) > 1000
    for ch in singles:
        assert parse_tweet(ch, CONFIG_V2).weighted_length == 2, ch


def test_a_javascript_pattern_over_surrogate_pairs_becomes_one_over_code_points() -> None:
    assert twitter_text.from_utf16(r"\ud83d\ude00") == r"\U0001f600"
    assert twitter_text.from_utf16(r"a\ud83c[\udffb-\udfff\udc04]") == (
        r"a[\U0001f3fb-\U0001f3ff\U0001f004]"
    )
    with pytest.raises(ValueError, match="not in a pair"):
        twitter_text.from_utf16(r"\udc00")
