"""deploy/docker-compose.yml cannot run here (no container engine): these checks keep it exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bootstrap.settings import OPTIONS

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def chirp_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "chirp:latest"
    }


def test_chirp_services_use_only_settings_the_app_knows() -> None:
    known = {option.env for option in OPTIONS}
    for name, service in chirp_services().items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets {unknown}, which `python app.py --help` does not list"


def test_every_process_that_creates_ids_has_its_own_worker_id() -> None:
    ids = [service["environment"]["CHIRP_WORKER_ID"] for service in chirp_services().values()]
    assert len(ids) == len(set(ids))
    assert all(0 <= int(i) <= 1023 for i in ids)


def test_every_instance_signs_tokens_with_the_same_key_and_uses_the_production_stores() -> None:
    for service in chirp_services().values():
        env = service["environment"]
        assert env["CHIRP_SECRET_KEY"].startswith("${CHIRP_SECRET_KEY")
        assert env["NEO4J_URI"].startswith("neo4j://")
        assert "replicaSet=rs0" in env["MONGODB_URI"]
        assert env["REDIS_URL"].startswith("redis://")


def test_two_api_instances_sit_behind_the_load_balancer() -> None:
    services = compose()["services"]
    lb = (DEPLOY / "nginx" / "lb.conf").read_text()
    api = [name for name, s in chirp_services().items() if "command" not in s]
    assert len(api) >= 2
    for name in api:
        assert f"server {name}:8000" in lb
    assert services["lb"]["depends_on"] == api
    for name in api:
        assert (
            services[name]["depends_on"]["admin-init"]["condition"]
            == "service_completed_successfully"
        )
    assert chirp_services()["admin-init"]["command"] == ["python", "app.py", "admin", "init"]


def test_the_image_copies_every_package_the_project_declares() -> None:
    import tomllib

    project = tomllib.loads((DEPLOY.parent / "pyproject.toml").read_text())
    packages = {p.split(".")[0] for p in project["tool"]["setuptools"]["packages"]}
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = {
        line.split()[1]
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and len(line.split()) == 3
    }
    assert packages <= copied, f"deploy/Dockerfile does not copy {sorted(packages - copied)}"


def test_the_project_declares_every_package_of_the_tree() -> None:
    import tomllib

    root = DEPLOY.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    declared = set(project["tool"]["setuptools"]["packages"])
    found = {
        str(path.parent.relative_to(root)).replace("/", ".")
        for path in root.glob("*/**/__init__.py")
        if path.parts[len(root.parts)] not in {"tests", "bench", ".venv", "data"}
    }
    assert found <= declared, f"pyproject.toml does not list {sorted(found - declared)}"
