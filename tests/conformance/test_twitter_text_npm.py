"""Chirp's text rules against twitter-text itself: the npm package 3.1.0, run with node.

twitter-text's conformance suite (tests/unit/test_twitter_text_conformance.py) checks chosen
cases; this compares every answer with the real library on generated text: tweet-like strings
(ASCII, CJK, emoji with ZWJ sequences, skin tones, flags and keycaps, URLs with and without a
protocol, mentions, lists, e-mail addresses, hashtags in many scripts, direction marks), any
Unicode text, and one probe per character for the character classes (which letters a hashtag
takes, which characters a URL path takes, case folding). For each text: parseTweet's weighted
length, validity and permillage; the URLs, mentions, lists and hashtags with their indices; and
Chirp's own extract_mentions / extract_hashtags against what twitter-text links.

The package is pinned (``twitter_text/node/package.json`` and its lock) and installed with
``npm ci`` into ``tests/.npm/twitter-text/`` (gitignored) once; later runs reuse it while the
lock is unchanged. node and npm come from ``make system-packages``. ``node/answer.mjs`` answers
one JSON line per text, in one process for the whole module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.text import extract_hashtags, extract_mentions, extract_mentions_with_indices
from core.twitter_text import (
    extract_hashtags_with_indices,
    extract_mentions_or_lists_with_indices,
    extract_urls_with_indices,
    parse_tweet,
)

NODE = Path(__file__).resolve().parent / "twitter_text" / "node"
NPM_FOLDER = Path(__file__).resolve().parents[1] / ".npm" / "twitter-text"
INSTALL_TIMEOUT_SECONDS = 300
ANSWER_TIMEOUT_SECONDS = 60

Answer = dict[str, Any]

pytestmark = pytest.mark.slow  # node in a subprocess, a few seconds


def installed_twitter_text() -> Path:
    """The npm folder holding the pinned twitter-text, installed first if it is not yet."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.fail("node and npm are needed: `make system-packages` installs them")
    lock = (NODE / "package-lock.json").read_bytes()
    marker = NPM_FOLDER / ".installed"
    wanted = hashlib.sha256(lock).hexdigest()
    if marker.exists() and marker.read_text() == wanted:
        return NPM_FOLDER
    NPM_FOLDER.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NODE / name, NPM_FOLDER / name)
    install = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=NPM_FOLDER,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_SECONDS,
        check=False,
    )
    if install.returncode != 0:
        pytest.fail(
            f"npm ci of twitter-text failed in {NPM_FOLDER}:\n{install.stdout}{install.stderr}"
        )
    marker.write_text(wanted)
    return NPM_FOLDER


class TwitterText:
    """node running answer.mjs: twitter-text's answers, one JSON line per text."""

    def __init__(self, folder: Path) -> None:
        self.process = subprocess.Popen(
            ["node", str(NODE / "answer.mjs"), str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, texts: list[str]) -> Callable[[], list[Answer]]:
        """Send ``texts``; the function returned waits for their answers (meanwhile node works
        and the caller can compute Chirp's)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        answers: list[Answer] = []

        def write() -> None:
            for text in texts:
                stdin.write(json.dumps(text) + "\n")
            stdin.flush()

        def read() -> None:
            answers.extend(json.loads(stdout.readline()) for _ in texts)

        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for thread in threads:
            thread.start()

        def wait() -> list[Answer]:
            for thread in threads:
                thread.join(ANSWER_TIMEOUT_SECONDS)
            assert len(answers) == len(texts), "node did not answer in time"
            return answers

        return wait

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=ANSWER_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def twitter_text() -> Iterator[TwitterText]:
    node = TwitterText(installed_twitter_text())
    yield node
    node.close()


def chirps_answer(text: str) -> Answer:
    """Chirp's answers, in answer.mjs's shape."""
    parsed = parse_tweet(text)
    return {
        "weightedLength": parsed.weighted_length,
        "valid": parsed.valid,
        "permillage": parsed.permillage,
        "urls": [[u.url, u.start, u.end] for u in extract_urls_with_indices(text)],
        "mentionsOrLists": [
            [m.screen_name, m.list_slug, m.start, m.end]
            for m in extract_mentions_or_lists_with_indices(text)
        ],
        "mentions": [
            m.screen_name for m in extract_mentions_or_lists_with_indices(text) if not m.list_slug
        ],
        "linkedMentions": [m.screen_name for m in extract_mentions_with_indices(text)],
        "hashtags": [[h.hashtag, h.start, h.end] for h in extract_hashtags_with_indices(text)],
    }


def assert_agree(text: str, theirs: Answer, ours: Answer) -> None:
    assert ours == theirs, f"text: {text!r}"
    # Chirp's public functions: twitter-text's answers lower-cased or case-folded, each once
    assert extract_mentions(text) == list(
        dict.fromkeys(n.lower() for n in theirs["linkedMentions"])
    )
    assert extract_hashtags(text) == list(
        dict.fromkeys(h.casefold() for h, _, _ in theirs["hashtags"])
    )


# --- tweet-like text ----------------------------------------------------------------------------

ZWJ = "\u200d"
FRAGMENTS = [
    # words, spaces, punctuation
    "hello", "World", "a", "x1", "2024", " ", "  ", "\n", "\r\n", "\t", ".", ",", "!", "?", ":",
    "(", ")", "'", '"', "-", "_", "/", "&", "~", "…", "。", "、", "！",
    # other scripts
    "日本語", "故人西辞", "한국어", "ひらがな", "カタカナー", "Привет", "ελληνικά", "שלום", "مرحبا",
    "हिन्दी", "ไทย", "Ǆǅǆ", "ᲀ", "ß", "İı", "ſ", "K", "Å", "Ω", "µ", "\u0301", "e\u0301", "\u1100\u1161",
    "𝐀𝐁", "\U00020021", "\U000104a0", "𐐀𐐨",
    # emoji
    "😷", "🐦", "👍🏽", "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🧑\u200d🤝\u200d🧑", "❤️\u200d🔥",
    "🏳️\u200d🌈", "🇺🇸", "🇺", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "1\ufe0f\u20e3", "#\u20e3", "*\ufe0f\u20e3", "©", "©\ufe0f", "®", "™", "™\ufe0f", "☺", "☺\ufe0f",
    "☺\ufe0e", "\ufe0f", "\ufe0e", ZWJ, "\u200c", "🫠", "🥱", "\ue50a", "↔", "‼",
    # URLs
    "http://", "https://", "example.com", "www.example.com", "t.co", "http://t.co/abc123",
    "https://t.co/UqIyJAJTfo?amp=1", "https://example.com/a?b=1&c=2#top", "HTTPS://EXAMPLE.COM/A",
    "example.co.jp/path", "foo.bar", "a.b.c.d", "example.com.", "http://例え.jp/パス",
    "http://xn--r8jz45g.jp", "twitter.한국", "http://foobar.پاکستان/", "http://en.wikipedia.org/wiki/Foo_(bar)",
    "http://example.com/@user/", "https://example.com:8080/x", "user@example.com", "-example.com",
    "http://☃.net/", "example.рф", "example.РФ", "example.ınfo", "example.ıo", "x.ſh", ".com",
    "https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-", "www.-domain.com",
    # mentions and lists
    "@", "＠", "@bob", "@Bob", "＠alice", "@user/list-name", "@user/7list", "@abcdefghijklmnopqrstuvwxyz",
    "RT @x", "rt:@y", "@aliceì", "@a@b", "@http://x.com", "mail@example.org", "f!@kn",
    # hashtags
    "#", "＃", "#tag", "#Chirp", "#1", "#1st", "#2024", "#_", "#日本", "#ашок", "#트위터", "#Café",
    "#\U00020021", "#a\u200cb", "##tag", "&#39;", "#tag#tag", "#tag://", "#️⃣",
    # directional and invalid characters
    "\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
    "\u2067", "\u2068", "\u2069", "\ufeff", "\ufffe", "\uffff",
    # weights at the range edges
    "\u10ff", "\u1100", "\u2000", "\u200d", "\u200e", "\u2010", "\u201f", "\u2020", "\u2032",
    "\u2037", "\u2038",
]  # fmt: skip

TWEETISH = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=60).map("".join),
    st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=300),
)
EXAMPLES = 600
RANDOM = os.environ.get("CHIRP_FUZZ_RANDOM") == "1"  # make fuzz: new text each run


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not RANDOM,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(TWEETISH)
@example("hi @bob, see example.com/x and #chirp 😷 👩\u200d💻 日本語")
@example("https://example.social/@carol hi @dave")  # a mention inside a URL is not linked
@example("x" * 280 + " https://example.com")
def test_chirp_answers_as_twitter_text_does(twitter_text: TwitterText, text: str) -> None:
    [theirs] = twitter_text.ask([text])()
    assert_agree(text, theirs, chirps_answer(text))


def probe_characters() -> list[int]:
    """The code points whose classes matter most, about 3,500: Latin up to U+024F, every BMP
    character with case (case folding), and every 61st other BMP and 1999th astral one."""

    def assigned(code: int) -> bool:
        return not 0xD800 <= code <= 0xDFFF and unicodedata.category(chr(code)) != "Cn"

    cased = {c for c in range(0x10000) if assigned(c) and chr(c).upper() != chr(c).lower()}
    sampled = {
        c for c in [*range(0x250, 0x10000, 61), *range(0x10000, 0x110000, 1999)] if assigned(c)
    }
    return sorted(set(range(0x250)) | cased | sampled)


def test_each_character_is_classed_as_twitter_text_classes_it(twitter_text: TwitterText) -> None:
    """One text per character ``c``: in a hashtag (``#ac``, ``#c1``), a URL's path and domain
    (``http://a.co/cx``, ``c.co``), after a mention and before a URL, and case-folded in a top-level
    domain (``a.cOM``)."""
    texts = [
        f"#a{c} #{c}1 http://a.co/{c}x {c}.co @a{c} {c}b.com a.{c}om x.c{c}"
        for c in map(chr, probe_characters())
    ]
    theirs = twitter_text.ask(texts)
    ours = [chirps_answer(text) for text in texts]
    for text, their_answer, our_answer in zip(texts, theirs(), ours, strict=True):
        assert_agree(text, their_answer, our_answer)
