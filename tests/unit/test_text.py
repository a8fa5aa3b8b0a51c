"""User-written text (core/text.py): cleaning, invisible and refused characters, tweet length,
URLs, tags, mentions, fields.

Length, URLs, mentions and hashtags are twitter-text's (its conformance suite and the npm
package itself check them in tests/unit/test_twitter_text_conformance.py and
tests/conformance/test_twitter_text_npm.py); these tests say what that means for Chirp.
"""

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
    describe_character,
    extract_hashtags,
    extract_mentions,
    find_urls,
    has_visible_text,
    invalid_characters,
    is_invisible,
    unpaired_bidi_controls,
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


# --- invisible-only text ------------------------------------------------------------

ZWSP, ZWNJ, ZWJ, WJ = "\u200b", "\u200c", "\u200d", "\u2060"
LRM, RLM, ALM = "\u200e", "\u200f", "\u061c"
LRE, RLE, PDF, LRO, RLO = "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"

INVISIBLE_ONLY = {
    "zero-width spaces": ZWSP * 2,
    "joiners and word joiner": ZWNJ + ZWJ + WJ,
    "mongolian vowel separator": "\u180e",
    "soft hyphen": "\u00ad",
    "variation selectors alone": "\ufe0f\ufe0e",
    "combining marks alone": "\u0301\u0327",
    "enclosing mark alone": "\u20dd",
    "spacing mark alone": "\u0903",
    "combining grapheme joiner": "\u034f",
    "hangul filler": "\u3164",
    "hangul choseong and jungseong fillers": "\u115f\u1160",
    "halfwidth hangul filler": "\uffa0",
    "braille blank": "\u2800\u2800",
    "null notehead": "\U0001d159",
    "tag characters": "\U000e0041\U000e007f",
    "direction marks": LRM + RLM + ALM,
    "mixed with whitespace": " \u3000" + ZWSP + "\n\u00a0" + ZWJ + " ",
}


@pytest.mark.parametrize("raw", list(INVISIBLE_ONLY.values()), ids=list(INVISIBLE_ONLY))
def test_a_tweet_of_only_invisible_characters_is_empty(raw: str) -> None:
    assert not has_visible_text(raw)
    error = user_error(validate_tweet_text, raw)
    assert (error.code, error.field) == ("EMPTY", "text")


def test_a_tweet_of_a_paired_isolate_around_nothing_is_empty() -> None:
    assert user_error(validate_tweet_text, RLI + ZWSP + PDI).code == "EMPTY"


@pytest.mark.parametrize("raw", list(INVISIBLE_ONLY.values()), ids=list(INVISIBLE_ONLY))
def test_an_invisible_only_display_name_or_bio_is_empty(raw: str) -> None:
    """Empty, as whitespace-only is: the account service decides what an empty value means."""
    assert validate_display_name(raw) == ""
    assert validate_bio(raw) == ""


VISIBLE = {
    "emoji zwj sequence": "\U0001f469\u200d\U0001f4bb",  # woman technologist
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "emoji with presentation selector": "\u2764\ufe0f",
    "keycap": "1\ufe0f\u20e3",
    "flag of scotland (tag sequence)": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "persian with zwnj": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "hindi with a spacing mark": "\u0928\u092e\u0938\u094d\u0924\u0947",
    "arabic number sign before digits": "\u0600\u0661\u0662",
    "one letter among fillers": "\u3164a\u3164",
    "private use": "\ue000",
    "unassigned (perhaps a newer emoji)": "\U0001faff",
}


@pytest.mark.parametrize("text", list(VISIBLE.values()), ids=list(VISIBLE))
def test_joiners_marks_and_fillers_inside_visible_text_are_kept(text: str) -> None:
    assert has_visible_text(text)
    assert validate_tweet_text(text) == text
    assert validate_display_name(text) == text
    assert validate_bio(text) == text


def test_what_counts_as_invisible_follows_unicode_categories() -> None:
    for ch in (" ", "\u00a0", "\u3000", "\u2028", ZWSP, ZWJ, "\ufeff", "\u0301", "\ufe0f", LRM):
        assert is_invisible(ch), describe_character(ch)
    for ch in ("a", "\u00e9", ".", "\u0661", "\U0001f426", "\u0600", "\u115b"):
        assert not is_invisible(ch), describe_character(ch)


def test_characters_are_described_by_code_point_and_name() -> None:
    assert describe_character(RLO) == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert describe_character("\ufffe") == "U+FFFE"
    assert describe_character("\U0001f426") == "U+1F426 BIRD"


# --- refused characters ------------------------------------------------------------


@pytest.mark.parametrize(
    "ch", ["\ufeff", "\ufffe", "\uffff", LRO, RLO], ids=["BOM", "FFFE", "FFFF", "LRO", "RLO"]
)
def test_twitter_texts_invalid_characters_and_the_overrides_are_refused_in_every_field(
    ch: str,
) -> None:
    for validate, field in (
        (validate_tweet_text, "text"),
        (validate_display_name, "displayName"),
        (validate_bio, "bio"),
    ):
        error = user_error(validate, f"fine {ch} text")
        assert (error.code, error.field) == ("INVALID_CHARACTERS", field)
        assert f"U+{ord(ch):04X}" in error.message


def test_the_spoofed_file_name_of_issue_12_is_refused_and_the_message_names_the_override() -> None:
    error = user_error(validate_display_name, "Admin\u202egnp.exe")
    assert (error.code, error.field) == ("INVALID_CHARACTERS", "displayName")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in error.message
    assert user_error(validate_tweet_text, "get Admin\u202egnp.exe\u202c now").code == (
        "INVALID_CHARACTERS"
    )


def test_a_lone_surrogate_is_refused() -> None:
    assert user_error(validate_tweet_text, "a\ud800b").code == "INVALID_CHARACTERS"


def test_invalid_characters_are_refused_even_when_the_text_is_otherwise_empty() -> None:
    """The more precise error wins: the author learns what to remove."""
    assert user_error(validate_tweet_text, RLO).code == "INVALID_CHARACTERS"
    assert user_error(validate_tweet_text, "\ufeff").code == "INVALID_CHARACTERS"


@pytest.mark.parametrize(
    "ch", [LRE, RLE, PDF, LRI, RLI, FSI, PDI], ids=["LRE", "RLE", "PDF", "LRI", "RLI", "FSI", "PDI"]
)
def test_a_display_name_refuses_every_embedding_and_isolate(ch: str) -> None:
    error = user_error(validate_display_name, f"Name {ch}x")
    assert (error.code, error.field) == ("INVALID_CHARACTERS", "displayName")
    # paired or not
    assert user_error(validate_display_name, f"{RLI}name{PDI}").code == "INVALID_CHARACTERS"


PAIRED = {
    "isolate around arabic": f"I said {RLI}\u0645\u0631\u062d\u0628\u0627{PDI} today",
    "first-strong isolate": f"{FSI}\u05e9\u05dc\u05d5\u05dd{PDI}!",
    "embedding": f"{RLE}\u05e9\u05dc\u05d5\u05dd 123{PDF}",
    "nested": f"{LRI}a {RLE}b{PDF} c{PDI}",
    "one pair per line": f"{LRI}a{PDI}\n{RLI}b{PDI}",
    "around a link": f"see {LRI}https://example.com/page{PDI}",
}


@pytest.mark.parametrize("text", list(PAIRED.values()), ids=list(PAIRED))
def test_tweets_and_bios_accept_embeddings_and_isolates_closed_on_their_line(text: str) -> None:
    assert unpaired_bidi_controls(text) == []
    assert validate_tweet_text(text) == text
    assert validate_bio(text) == text


UNPAIRED = {
    "unclosed isolate": (f"{RLI}\u0645\u0631\u062d\u0628\u0627", [RLI]),
    "unclosed embedding": (f"x {LRE}y", [LRE]),
    "stray pop": (f"x{PDI} y", [PDI]),
    "pop of the wrong kind": (f"{LRI}x{PDF}", [PDF, LRI]),
    "crossed pairs": (f"{LRE}a{LRI}b{PDF}c{PDI}", [PDF, LRE]),
    "closed on the next line": (f"{RLI}a\nb{PDI}", [RLI, PDI]),
    "closed after a paragraph separator": (f"{RLI}a\u2029b{PDI}", [RLI, PDI]),
}


@pytest.mark.parametrize(("text", "unpaired"), list(UNPAIRED.values()), ids=list(UNPAIRED))
def test_tweets_and_bios_refuse_an_unclosed_opener_or_a_stray_closer(
    text: str, unpaired: list[str]
) -> None:
    assert unpaired_bidi_controls(text) == unpaired
    for validate, field in ((validate_tweet_text, "text"), (validate_bio, "bio")):
        error = user_error(validate, text)
        assert (error.code, error.field) == ("INVALID_CHARACTERS", field)
        assert "closed" in error.message


def test_a_closed_override_is_still_refused_and_only_the_override_is_named() -> None:
    assert invalid_characters(f"a{RLO}b{PDF}", paired_bidi=True) == [RLO]
    assert invalid_characters(f"a{RLO}b{PDF}", paired_bidi=False) == [RLO, PDF]


def test_each_refused_character_is_named_once_in_order() -> None:
    text = f"\uffff a {RLO} b \uffff {RLO} \ufeff"
    assert invalid_characters(text, paired_bidi=True) == ["\uffff", RLO, "\ufeff"]
    message = user_error(validate_tweet_text, text).message
    assert message.index("U+FFFF") < message.index("U+202E") < message.index("U+FEFF")


@pytest.mark.parametrize("mark", [LRM, RLM, ALM], ids=["LRM", "RLM", "ALM"])
def test_direction_marks_are_accepted_in_every_field(mark: str) -> None:
    text = f"\u05e9\u05dc\u05d5\u05dd{mark} 2024"
    assert validate_tweet_text(text) == text
    assert validate_display_name(text) == text
    assert validate_bio(text) == text


def test_a_url_ends_at_an_invisible_format_character() -> None:
    """A link wrapped in an isolate keeps its closing PDI: the short link replaces only the URL."""
    for after in (PDI, PDF, ZWSP, WJ, LRM, "\ufeff"):
        [span] = find_urls(f"see https://example.com/page{after} more")
        assert span.url == "https://example.com/page"


def test_a_display_name_is_one_line_even_with_unicode_line_separators() -> None:
    assert validate_display_name("Ann\u2028Lee\u2029") == "AnnLee"
    assert validate_tweet_text("one\u2028two") == "one\u2028two"


# --- length ---------------------------------------------------------------------


def test_plain_text_of_280_characters_passes_and_281_fails() -> None:
    assert validate_tweet_text("x" * MAX_TWEET_LENGTH) == "x" * MAX_TWEET_LENGTH
    error = user_error(validate_tweet_text, "x" * (MAX_TWEET_LENGTH + 1))
    assert error.code == "TOO_LONG"
    assert error.field == "text"
    assert "281" in error.message


def test_the_message_says_the_weighted_limit_and_the_length_found() -> None:
    error = user_error(validate_tweet_text, "日" * 141)
    assert (error.code, error.field) == ("TOO_LONG", "text")
    assert "280" in error.message
    assert "282" in error.message


def test_140_emoji_pass_and_141_fail_as_each_counts_2() -> None:
    assert weighted_length("🐦" * 140) == 280
    assert validate_tweet_text("🐦" * 140) == "🐦" * 140
    assert user_error(validate_tweet_text, "🐦" * 141).code == "TOO_LONG"


def test_140_cjk_characters_pass_and_141_fail_as_each_counts_2() -> None:
    assert weighted_length("日本語") == 6
    assert validate_tweet_text("日" * 140) == "日" * 140
    assert user_error(validate_tweet_text, "日" * 141).code == "TOO_LONG"
    assert user_error(validate_tweet_text, "한" * 141).code == "TOO_LONG"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Ünïcödé", 7),  # Latin, Cyrillic, Greek, Hebrew, Arabic...: U+0000-U+10FF count 1
        ("Привет", 6),
        ("שלום", 4),
        ("\u2014\u2019\u2033", 3),  # dashes and quotes U+2010-U+201F, primes U+2032-U+2037
        ("\u2026", 2),  # the ellipsis is U+2026, outside those ranges
        ("\u1100", 2),  # Hangul jamo: the first code point past U+10FF
        ("\ufe0f", 2),
    ],
)
def test_characters_count_1_or_2_by_their_range(text: str, length: int) -> None:
    assert weighted_length(text) == length


@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f469\u200d\U0001f4bb",  # woman technologist: a ZWJ sequence
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family of four
        "\U0001f44d\U0001f3fd",  # thumbs up, medium skin tone
        "\U0001f1fa\U0001f1f8",  # a flag: two regional indicators
        "1\ufe0f\u20e3",  # keycap
        "\u00a9\ufe0f",  # copyright sign as an emoji
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    ],
)
def test_an_emoji_sequence_counts_2_whatever_its_code_points(emoji: str) -> None:
    assert weighted_length(emoji) == 2
    assert weighted_length(f"a{emoji}b") == 4


def test_a_symbol_without_emoji_presentation_counts_as_its_character() -> None:
    assert weighted_length("\u00a9") == 1  # in the Latin-1 range
    assert weighted_length("\u00a9\ufe0f") == 2


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


def test_a_url_without_a_protocol_is_a_url_and_counts_23() -> None:
    spans = find_urls("docs at example.com/guide, www.python.org and t.co/abc.")
    assert [s.url for s in spans] == ["example.com/guide", "www.python.org", "t.co/abc"]
    assert weighted_length("example.com") == 23


@pytest.mark.parametrize(
    "text",
    [
        "mail bob@example.com",  # an address's domain
        "see -example.com",  # after a hyphen, a slash, a dot or an underscore
        "version 1.2.3",
        "example.notatld",
        "Done.Then",  # "then" is no top-level domain ("hello.world" is a URL: .world is one)
    ],
)
def test_things_that_are_not_urls_without_a_protocol(text: str) -> None:
    assert find_urls(text) == []


def test_a_t_co_url_takes_no_path_after_its_code() -> None:
    assert [s.url for s in find_urls("http://t.co/abc123/more")] == ["http://t.co/abc123"]


def test_url_indices_are_python_string_indices() -> None:
    text = "🐦 日本 https://example.com/a"
    [span] = find_urls(text)
    assert text[span.start : span.end] == span.url == "https://example.com/a"


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


def test_hashtags_are_case_folded_unique_and_in_order() -> None:
    assert extract_hashtags("#Chirp loves #GraphQL and #chirp, #CHIRP again") == [
        "chirp",
        "graphql",
    ]
    assert extract_hashtags("#Straße #STRASSE") == ["strasse"]  # full case folding


def test_hashtags_may_hold_unicode_letters_marks_and_digits() -> None:
    assert extract_hashtags("#Café #año2024 #日本 #1st #ашок #트위터") == [
        "café",
        "año2024",
        "日本",
        "1st",
        "ашок",
        "트위터",
    ]
    assert extract_hashtags("#\U00020021") == ["\U00020021"]  # a CJK letter outside the BMP


def test_a_full_width_hash_sign_starts_a_hashtag_too() -> None:
    assert extract_hashtags("＃Tag") == ["tag"]


def test_a_hash_sign_before_one_starts_nothing_but_the_second_starts_a_hashtag() -> None:
    assert extract_hashtags("##tag") == ["tag"]


@pytest.mark.parametrize(
    "text", ["#1", "#2024", "#_1", "# tag", "a#tag", "&#39;", "#tag#", "#\ufe0f\u20e3"]
)
def test_things_that_are_not_hashtags(text: str) -> None:
    assert extract_hashtags(text) == []


def test_hashtags_inside_urls_are_ignored() -> None:
    assert extract_hashtags("https://example.com/#anchor and #real") == ["real"]


def test_mentions_are_lower_cased_unique_and_in_order() -> None:
    assert extract_mentions("hi @Bob, @alice and @BOB. (@carol)") == ["bob", "alice", "carol"]


@pytest.mark.parametrize(
    "text",
    ["a@b.com", "mail me: someone@example.org", "@", "@@bob", "x@bob", "@bob@", "@bobé", "f!@kn"],
)
def test_things_that_are_not_mentions(text: str) -> None:
    assert extract_mentions(text) == []


def test_a_full_width_at_sign_and_a_retweet_prefix_mention_too() -> None:
    assert extract_mentions("＠Bob RT@carol rt:@dave") == ["bob", "carol", "dave"]


def test_a_list_is_not_a_mention_of_its_owner() -> None:
    assert extract_mentions("see @bob/cool-people and @carol") == ["carol"]
    assert extract_mentions("@bob/7list") == ["bob"]  # a list's name starts with a letter


def test_a_mention_is_at_most_20_characters_as_twitter_text_takes_them() -> None:
    assert extract_mentions("@" + "a" * 20) == ["a" * 20]
    assert extract_mentions("@" + "a" * 21) == ["a" * 20]


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


@pytest.mark.parametrize("raw", ["graphql", "Static", "SEARCH", " login ", "l", "i", "healthz"])
def test_handles_naming_the_servers_own_pages_are_reserved(raw: str) -> None:
    error = user_error(validate_handle, raw)
    assert (error.code, error.field) == ("HANDLE_RESERVED", "handle")
    assert f"@{raw.strip()}" in error.message


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
        "\u200b",  # zero-width space
        "\u200d",  # zero-width joiner
        "\u3164",  # Hangul filler
        "\ufe0f",  # variation selector
        "\u200f",  # right-to-left mark
        "\u2067",  # right-to-left isolate
        "\u2069",  # pop directional isolate
        "\u202b",  # right-to-left embedding
        "\u202c",  # pop directional formatting
        "\u202e",  # right-to-left override
        "\ufeff",  # byte order mark
        "\U0001f469",  # woman, for ZWJ sequences
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


def expected_refusal(cleaned: str) -> str | None:
    """The error a tweet of this cleaned text gets, from the rules one at a time."""
    if invalid_characters(cleaned, paired_bidi=True):
        return "INVALID_CHARACTERS"
    if not has_visible_text(cleaned):
        return "EMPTY"
    if weighted_length(cleaned) > MAX_TWEET_LENGTH:
        return "TOO_LONG"
    return None


@settings(max_examples=300, deadline=None)
@given(TWEETISH)
@example("e\x00\u0301")
@example("\u2067\u0645\u2069\u200b")
def test_validating_a_validated_tweet_changes_nothing_and_it_fits_the_limit(raw: str) -> None:
    cleaned = clean_text(raw)
    refusal = expected_refusal(cleaned)
    if refusal is not None:
        with pytest.raises(UserError) as caught:
            validate_tweet_text(raw)
        assert caught.value.code == refusal
        return
    text = validate_tweet_text(raw)
    assert text == cleaned
    assert weighted_length(text) <= MAX_TWEET_LENGTH
    assert has_visible_text(text)
    assert unpaired_bidi_controls(text) == []
    assert validate_tweet_text(text) == text
    assert unicodedata.is_normalized("NFC", text)


@settings(max_examples=200, deadline=None)
@given(TWEETISH)
def test_an_accepted_display_name_holds_no_direction_control_and_shows_something(
    raw: str,
) -> None:
    cleaned = clean_text(raw, keep_newlines=False)
    if invalid_characters(cleaned, paired_bidi=False) or (
        has_visible_text(cleaned) and len(cleaned) > MAX_DISPLAY_NAME_LENGTH
    ):
        with pytest.raises(UserError) as caught:
            validate_display_name(raw)
        assert caught.value.code in {"INVALID_CHARACTERS", "TOO_LONG"}
        return
    name = validate_display_name(raw)
    assert not any(ch in name for ch in (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI))
    assert "\n" not in name
    assert name == "" or has_visible_text(name)
    assert validate_display_name(name) == name


@settings(max_examples=200, deadline=None)
@given(TWEETISH)
@example("#\u13f8 #\u13f0")  # Cherokee case-folds to its capital letters
def test_extracted_tags_are_case_folded_mentions_lower_case_and_each_unique(raw: str) -> None:
    tags, mentions = extract_hashtags(raw), extract_mentions(raw)
    assert len(tags) == len(set(tags))
    assert all(tag == tag.casefold() for tag in tags)
    assert len(mentions) == len(set(mentions))
    assert all(name == name.lower() and name.isascii() for name in mentions)
