"""User-written text (core/text.py): cleaning, tweet length, tags, mentions, fields."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.errors import UserError
from core.text import (
    MAX_BIO_LENGTH,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MAX_TWEET_LENGTH,
    MIN_PASSWORD_LENGTH,
    URL_WEIGHT,
    clean_text,
    extract_hashtags,
    extract_mentions,
    find_urls,
    validate_bio,
    validate_display_name,
    validate_handle,
    validate_password,
    validate_tweet_text,
    weighted_length,
)

LONG_URL = "https://example.com/" + "a" * 200


def user_error(fn: object, raw: str) -> UserError:
    assert callable(fn)
    with pytest.raises(UserError) as caught:
        fn(raw)
    return caught.value


# --- cleaning -------------------------------------------------------------------


def test_text_is_nfc_normalised_so_a_combining_accent_counts_as_one_character() -> None:
    text = validate_tweet_text("cafe\u0301")
    assert text == "café"
    assert len(text) == 4
    assert weighted_length(text) == 4
    assert unicodedata.is_normalized("NFC", text)


def test_a_combining_accent_separated_by_a_stripped_control_still_composes() -> None:
    """Stripping a control character must not leave behind text that is not NFC."""
    text = validate_tweet_text("e\x00\u0301")
    assert text == "é"
    assert len(text) == 1


@pytest.mark.parametrize("raw", ["", " ", "   \n\t ", "\u3000\u00a0", "\x00\x1b\x07", "\r\n\r\n"])
def test_whitespace_or_control_only_text_is_empty(raw: str) -> None:
    error = user_error(validate_tweet_text, raw)
    assert error.code == "EMPTY"
    assert error.field == "text"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a\tb", "ab"),
        ("a\x00b", "ab"),
        ("a\x1b[31mred", "a[31mred"),
        ("bell\x07", "bell"),
        ("del\x7f", "del"),
    ],
)
def test_control_characters_other_than_newline_are_stripped(raw: str, expected: str) -> None:
    assert validate_tweet_text(raw) == expected


def test_newlines_are_kept_and_crlf_and_cr_become_newline() -> None:
    assert validate_tweet_text("one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


def test_surrounding_whitespace_is_trimmed_but_inner_spacing_kept() -> None:
    assert validate_tweet_text("  \n hello  world \n ") == "hello  world"


def test_clean_text_can_drop_newlines_for_single_line_fields() -> None:
    assert clean_text("a\r\nb\nc", keep_newlines=False) == "abc"
    assert clean_text("a\r\nb", keep_newlines=True) == "a\nb"


# --- length ---------------------------------------------------------------------


def test_plain_text_of_280_characters_passes_and_281_fails() -> None:
    assert validate_tweet_text("x" * MAX_TWEET_LENGTH) == "x" * MAX_TWEET_LENGTH
    error = user_error(validate_tweet_text, "x" * (MAX_TWEET_LENGTH + 1))
    assert error.code == "TOO_LONG"
    assert error.field == "text"
    assert "281" in error.message


def test_280_emoji_pass_and_281_fail() -> None:
    assert weighted_length("🐦" * 280) == 280
    assert validate_tweet_text("🐦" * 280) == "🐦" * 280
    assert user_error(validate_tweet_text, "🐦" * 281).code == "TOO_LONG"


def test_each_url_counts_23_however_long_it_is() -> None:
    assert URL_WEIGHT == 23
    assert weighted_length(LONG_URL) == 23
    assert weighted_length("https://t.co/x") == 23
    assert weighted_length(f"see {LONG_URL} and {LONG_URL}") == len("see  and ") + 2 * 23


def test_a_tweet_of_257_characters_plus_one_long_url_is_exactly_280() -> None:
    prefix = "a" * 256 + " "  # 257 characters, the last a space before the link
    text = prefix + LONG_URL
    assert len(text) > 400
    assert weighted_length(text) == 280
    assert validate_tweet_text(text) == text

    error = user_error(validate_tweet_text, "a" + text)
    assert error.code == "TOO_LONG"


def test_sentence_punctuation_after_a_url_is_not_part_of_it() -> None:
    [span] = find_urls("read https://example.com/page.")
    assert span.url == "https://example.com/page"
    [wiki] = find_urls("(see https://en.wikipedia.org/wiki/Foo_(bar))")
    assert wiki.url == "https://en.wikipedia.org/wiki/Foo_(bar)"


def test_a_bare_scheme_or_a_url_glued_to_a_word_is_not_a_url() -> None:
    assert find_urls("https:// nothing") == []
    assert find_urls("xhttps://example.com") == []
    assert find_urls("ftp://example.com") == []


def test_urls_are_found_case_insensitively() -> None:
    assert [s.url for s in find_urls("HTTPS://EXAMPLE.COM/A")] == ["HTTPS://EXAMPLE.COM/A"]


# --- hashtags and mentions ------------------------------------------------------------


def test_hashtags_are_lower_cased_unique_and_in_order() -> None:
    assert extract_hashtags("#Chirp loves #GraphQL and #chirp, #CHIRP again") == [
        "chirp",
        "graphql",
    ]


def test_hashtags_may_hold_unicode_letters_and_digits_after_a_letter() -> None:
    assert extract_hashtags("#Café #año2024 #日本") == ["café", "año2024", "日本"]


@pytest.mark.parametrize("text", ["#1", "#2024", "#_1", "# tag", "a#tag", "##tag", "&#39;"])
def test_things_that_are_not_hashtags(text: str) -> None:
    assert extract_hashtags(text) == []


def test_hashtags_inside_urls_are_ignored() -> None:
    assert extract_hashtags("https://example.com/#anchor and #real") == ["real"]


def test_mentions_are_lower_cased_unique_and_in_order() -> None:
    assert extract_mentions("hi @Bob, @alice and @BOB. (@carol)") == ["bob", "alice", "carol"]


@pytest.mark.parametrize(
    "text",
    ["a@b.com", "mail me: someone@example.org", "@", "@@bob", "@abcdefghijklmnop", "x@bob"],
)
def test_things_that_are_not_mentions(text: str) -> None:
    assert extract_mentions(text) == []


def test_mentions_inside_urls_are_ignored() -> None:
    assert extract_mentions("https://mastodon.social/@carol hi @dave") == ["dave"]


def test_a_15_character_handle_can_be_mentioned() -> None:
    assert extract_mentions("@abcdefghijklmno!") == ["abcdefghijklmno"]


# --- handles, names, bios, passwords ------------------------------------------


@pytest.mark.parametrize("raw", ["a", "Alice", "bob_42", "_", "A" * 15, "  padded  "])
def test_valid_handles(raw: str) -> None:
    assert validate_handle(raw) == raw.strip()


@pytest.mark.parametrize(
    "raw", ["", " ", "A" * 16, "has space", "dash-ed", "dot.ted", "@bob", "héllo", "ｂｏｂ", "١٢٣"]
)
def test_invalid_handles(raw: str) -> None:
    error = user_error(validate_handle, raw)
    assert (error.code, error.field) == ("INVALID_HANDLE", "handle")


def test_display_names_are_cleaned_single_line_and_at_most_50_characters() -> None:
    assert validate_display_name("  Ali\u0301ce\n Smith\t") == "Alíce Smith"
    assert validate_display_name("n" * MAX_DISPLAY_NAME_LENGTH) == "n" * 50
    error = user_error(validate_display_name, "n" * (MAX_DISPLAY_NAME_LENGTH + 1))
    assert (error.code, error.field) == ("TOO_LONG", "displayName")


def test_bios_keep_newlines_and_are_at_most_160_characters() -> None:
    assert validate_bio(" line one\r\nline two ") == "line one\nline two"
    assert validate_bio("") == ""
    assert validate_bio("b" * MAX_BIO_LENGTH) == "b" * 160
    error = user_error(validate_bio, "b" * (MAX_BIO_LENGTH + 1))
    assert (error.code, error.field) == ("TOO_LONG", "bio")


def test_passwords_of_8_to_256_characters_are_kept_verbatim() -> None:
    for raw in ("x" * MIN_PASSWORD_LENGTH, " spaces  ", "p" * MAX_PASSWORD_LENGTH):
        assert validate_password(raw) == raw


def test_short_passwords_are_weak() -> None:
    error = user_error(validate_password, "x" * (MIN_PASSWORD_LENGTH - 1))
    assert (error.code, error.field) == ("WEAK_PASSWORD", "password")


def test_very_long_passwords_are_refused() -> None:
    error = user_error(validate_password, "x" * (MAX_PASSWORD_LENGTH + 1))
    assert (error.code, error.field) == ("TOO_LONG", "password")


# --- properties -------------------------------------------------------------------

FRAGMENTS = st.sampled_from(
    [
        "a",
        "e",
        "Z",
        " ",
        "\n",
        "\r\n",
        "\r",
        "\t",
        "\x00",
        "\x1b",
        "\u0301",  # combining acute
        "\u0327",  # combining cedilla
        "\u1100",  # Hangul leading consonant
        "\u1161",  # Hangul vowel: composes with the one above
        "é",
        "🐦",
        "\u3000",
        "#tag",
        "@bob",
        "https://example.com/",
        "https://example.com/" + "p" * 60,
        ".",
        ")",
    ]
)
TWEETISH = st.one_of(
    st.lists(FRAGMENTS, max_size=120).map("".join),
    st.text(max_size=320),
)


@settings(max_examples=300, deadline=None)
@given(TWEETISH)
@example("e\x00\u0301")
def test_validating_a_validated_tweet_changes_nothing_and_it_fits_the_limit(raw: str) -> None:
    cleaned = clean_text(raw)
    if not cleaned or weighted_length(cleaned) > MAX_TWEET_LENGTH:
        with pytest.raises(UserError) as caught:
            validate_tweet_text(raw)
        assert caught.value.code == ("EMPTY" if not cleaned else "TOO_LONG")
        return
    text = validate_tweet_text(raw)
    assert text == cleaned
    assert weighted_length(text) <= MAX_TWEET_LENGTH
    assert validate_tweet_text(text) == text
    assert unicodedata.is_normalized("NFC", text)


@settings(max_examples=200, deadline=None)
@given(TWEETISH)
def test_extracted_tags_and_mentions_are_lower_case_and_unique(raw: str) -> None:
    for found in (extract_hashtags(raw), extract_mentions(raw)):
        assert len(found) == len(set(found))
        assert all(item == item.lower() for item in found)
