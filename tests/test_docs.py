"""The docs name only what exists: every file and folder path in backticks is there.

docs/architecture.md is the map of the code; a map that names a moved or
deleted file misleads the next reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["docs/architecture.md", "docs/api.md", "README.md", "bench/README.md"]
# a backticked token that is a relative path: folders and files, no spaces or placeholders
PATH = re.compile(r"`([a-z_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.\-]+)*/?)`")
TOP = {p.name for p in ROOT.iterdir()}


def named_paths(text: str) -> set[str]:
    """Relative paths (``core/ids.py``, ``tests/unit/``) and bare file names (``plan.py``)."""
    found = set()
    for token in PATH.findall(text):
        if any(part.startswith(".") for part in token.split("/")):
            continue  # made at run time (bench/.data) or hidden: not part of the tree
        if "/" in token:
            if token.split("/")[0] in TOP:
                found.add(token)
        elif token.endswith((".py", ".md", ".toml", ".conf", ".lua", ".yml")):
            found.add(token)
    return found


def exists(token: str) -> bool:
    """A path from the repository root; a bare file name anywhere in the project's tree."""
    if "/" in token:
        return (ROOT / token).exists()
    return any(".venv" not in path.parts and "data" not in path.parts for path in ROOT.rglob(token))


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_a_doc_names_exists(doc: str) -> None:
    missing = [t for t in sorted(named_paths((ROOT / doc).read_text())) if not exists(t)]
    assert missing == [], f"{doc} names what does not exist: {missing}"


def test_the_architecture_page_names_every_folder_and_port() -> None:
    text = (ROOT / "docs/architecture.md").read_text()
    folders = [
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name not in {"tests", "bench"}
    ]
    for folder in folders:
        assert f"`{folder}/`" in text, folder
    for port in ("SocialGraph", "TweetStore", "AttachmentStore", "ObjectStore"):
        assert f"`{port}`" in text, port
    for port in ("TimelineCache", "FanoutQueue", "EventBus"):
        assert f"`{port}`" in text, port


def test_the_check_finds_paths_and_misses_nothing_it_should_see() -> None:
    text = "see `core/ids.py`, `tests/unit/`, `app.py`, `GET /x`, `a b`, `bench/.data`"
    assert named_paths(text) == {"core/ids.py", "tests/unit/", "app.py"}
    assert exists("core/ids.py")
    assert exists("plan.py")
    assert not exists("core/services.py")
    assert not exists("no_such_module.py")
