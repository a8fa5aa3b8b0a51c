"""The layer rules that imports alone do not show.

import-linter (``make lint``, ``[tool.importlinter]`` in pyproject.toml) checks that
each layer imports only the layers below it. A resolver could still reach a store
through the services container (``ctx.services.stores.tweets``) without importing
anything: these tests read the code for that.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ABOVE_THE_SERVICES = sorted(
    path for folder in ("resolvers", "schema") for path in (ROOT / folder).rglob("*.py")
)


@pytest.mark.parametrize("path", ABOVE_THE_SERVICES, ids=lambda p: str(p.relative_to(ROOT)))
def test_resolvers_and_the_schema_read_through_the_services_never_a_store(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    reaching = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "stores"
    ]
    assert reaching == [], "use (or add) a service method instead of the store: " + ", ".join(
        reaching
    )


def test_the_check_reads_every_module_above_the_services() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in ABOVE_THE_SERVICES}
    assert {"resolvers/tweets.py", "resolvers/loaders.py", "schema/types.py"} <= names
    assert "schema/execution/plan.py" in names
