"""The README stays true: its commands are what CI runs, and it lists what the code has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.sandbox.errors import ERROR_CODES
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_two_commands_come_first_and_ci_runs_them() -> None:
    blocks = re.findall(r"```\n(.*?)\n```", README, flags=re.S)
    demo, tests = blocks[0], blocks[1]
    assert demo.startswith("python3 -m venv .venv") and demo.endswith("shipbot demo")
    assert tests.startswith("python3 -m venv .venv") and tests.endswith("python -m pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "shipbot demo" in ci and "pytest" in ci and "README.md" in ci


def test_every_setting_and_sandbox_code_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in README or name.upper() in README, name
    for code in ERROR_CODES:
        assert f"`{code}`" in README, code


def test_the_wire_reference_ships_with_the_project() -> None:
    """A clone has no ../shared: the README links our own reference, which names its sources."""
    assert "../shared" not in README and "/work/shared" not in README
    assert "(docs/electio-api.md)" in README
    reference = (ROOT / "docs" / "electio-api.md").read_text()
    for word in ("VERIFIED", "CONFLICT", "GUESS", "## Sources"):
        assert word in reference
    for path in ("/tracking/flattened/{ref}", "/consignments/{ref}/cancel", "manifestFromQuery"):
        assert path in reference
    for name in ("SHIPBOT_SHIPPERS_EORI", "SHIPBOT_DESIGNATED_PERSON", "SaleOfGoods"):
        assert name in reference and name in README


CODE = ("bot", "handlers", "blocks")
MODULE = re.compile(r"\b((?:bot|handlers|blocks)/[\w/]*\w\.py)\b")


def _architecture() -> str:
    return README.partition("\n## Architecture\n")[2].split("\n## ")[0]


def test_architecture_names_every_module_and_nothing_gone() -> None:
    section = _architecture()
    named = set(MODULE.findall(section))
    modules = {
        p.relative_to(ROOT).as_posix()
        for folder in CODE
        for p in (ROOT / folder).rglob("*.py")
        if p.name != "__init__.py"
    }
    assert not modules - named, f"name these in README's Architecture: {sorted(modules - named)}"
    assert not named - modules, f"README's Architecture names what is gone: {named - modules}"


def test_every_layer_is_described_and_says_what_it_is_for() -> None:
    section = _architecture()
    packages = [p.parent for folder in CODE for p in (ROOT / folder).rglob("__init__.py")]
    for package in packages:
        name = package.relative_to(ROOT).as_posix()
        assert f"`{name}/`" in section, f"describe {name}/ in README's Architecture"
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        lead = (docstring or "").split("\n\n- ")[0]
        assert lead and len(lead) <= 600, f"{name}/__init__.py: say what it is for"


def test_every_subpackage_docstring_names_its_modules_one_line_each() -> None:
    """A reader opening `bot/carrier/` (or any layer of bot/) sees each module's job."""
    for package in sorted(p.parent for p in (ROOT / "bot").glob("*/__init__.py")):
        name = package.relative_to(ROOT).as_posix()
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
        named = re.findall(r"^- `(\w+)`: \S", docstring, flags=re.M)
        modules = {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
        assert len(named) == len(set(named)), f"{name}/__init__.py names a module twice"
        assert not modules - set(named), f"{name}/__init__.py: add {sorted(modules - set(named))}"
        assert not set(named) - modules, f"{name}/__init__.py names what is gone"
