"""GraphQL over HTTP conformance: the specification's audit suite against the real server.

graphql-http, the GraphQL over HTTP specification's reference implementation,
ships ``auditServer``: 61 audits of a server's answers, one per MUST, SHOULD or
MAY rule it checks (media types, parameters, status codes). This test starts
``python app.py``, runs them with node (``graphql_http_audit/audit.mjs``) and
fails on any result that is not ok (an error, a warning, or a notice), naming
each audit and its reason.

The package is pinned (``graphql_http_audit/package.json`` and its lock) and
installed with ``npm ci`` into ``tests/.npm/`` (gitignored) once; later runs reuse
it while the lock is unchanged. node and npm come from ``make system-packages``.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.test_process import chirp

AUDIT = Path(__file__).resolve().parent / "graphql_http_audit"
NPM_FOLDER = AUDIT.parent.parent / ".npm"
INSTALL_TIMEOUT_SECONDS = 300
AUDIT_TIMEOUT_SECONDS = 120


def installed_audit() -> Path:
    """The npm folder holding the pinned graphql-http, installed first if it is not yet."""
    npm = shutil.which("npm")
    if shutil.which("node") is None or npm is None:
        pytest.fail("node and npm are needed for the audit: `make system-packages` installs them")
    lock = (AUDIT / "package-lock.json").read_bytes()
    marker = NPM_FOLDER / ".installed"
    wanted = hashlib.sha256(lock).hexdigest()
    if marker.exists() and marker.read_text() == wanted:
        return NPM_FOLDER
    NPM_FOLDER.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(AUDIT / name, NPM_FOLDER / name)
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
            f"npm ci of graphql-http failed in {NPM_FOLDER}:\n{install.stdout}{install.stderr}"
        )
    marker.write_text(wanted)
    return NPM_FOLDER


@pytest.mark.slow
async def test_the_graphql_over_http_audit_passes_without_a_warning(tmp_path: Path) -> None:
    folder = installed_audit()
    async with chirp(tmp_path / "data", free_port()) as base:  # no stack trace in its log either
        audit = await asyncio.to_thread(
            subprocess.run,
            ["node", str(AUDIT / "audit.mjs"), f"{base}/graphql", str(folder)],
            capture_output=True,
            text=True,
            timeout=AUDIT_TIMEOUT_SECONDS,
            check=False,
        )
    report = audit.stdout + audit.stderr
    assert audit.returncode == 0, f"audits not ok:\n{report}"
    assert ": 61 audits, 61 ok" in audit.stdout, report
