"""The version lives in one place, every dependency has a major ceiling, and the lock pins
exactly what pyproject.toml allows (so `pip install -c constraints.txt` can't disagree)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import bot

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _direct() -> list[Requirement]:
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines += extra
    return [Requirement(line) for line in lines]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not a pin"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_direct_dependency_has_a_major_ceiling() -> None:
    for req in _direct():
        if req.name == "tzdata":
            continue  # time-zone data, versioned by the calendar (2026.6): no API to break
        assert any(spec.operator in ("<", "<=", "==", "~=") for spec in req.specifier), req


def test_the_lock_pins_every_dependency_within_its_range() -> None:
    pins = _pins()
    assert "shipbot" not in pins  # the project itself is installed from the checkout
    for req in _direct():
        if req.marker is not None and not req.marker.evaluate():
            continue
        version = pins.get(canonicalize_name(req.name))
        assert version is not None, f"constraints.txt has no pin for {req.name}"
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version}"


def test_one_version_shown_by_the_cli_and_the_changelog() -> None:
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    shown = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == f"shipbot {bot.__version__}"
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[?{re.escape(bot.__version__)}\]?", changelog, re.M)
    assert "MIT License" in (ROOT / "LICENSE").read_text()


def test_installs_go_through_the_lock() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^python3 -m venv \.venv .*$", readme, re.M)
    assert len(commands) >= 2
    assert all("-c constraints.txt" in command for command in commands)


def test_the_container_recipe() -> None:
    """No container engine runs in CI: the recipe's promises are read from the files."""
    import yaml

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.M)
    assert "pip install -c constraints.txt ." in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert 'VOLUME ["/data"]' in dockerfile and "SHIPBOT_DB=/data/" in dockerfile
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", dockerfile, re.M)
    for copied in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / copied).exists(), copied
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot_service, sandbox = compose["services"]["shipbot"], compose["services"]["sandbox"]
    assert "shipbot-data:/data" in bot_service["volumes"] and bot_service["env_file"] == ".env"
    assert sandbox["profiles"] == ["sandbox"] and sandbox["command"][0] == "sandbox"
    readme = (ROOT / "README.md").read_text()
    assert "## Running in production" in readme and "docker compose" in readme
