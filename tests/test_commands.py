"""The command table agrees with everything drawn from it: the dispatcher routes exactly its
names, `/ship help` lists every row, and the README's table is its rows (the manifest's usage
hint: tests/test_app_manifest.py). Routing is checked through signed requests."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from blocks.ids import CommandId
from bot.desk import commands
from bot.desk.commands import COMMANDS
from tests.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
UNKNOWN = "I don't know"


def _ack(h: Harness, text: str) -> dict[str, Any]:
    """The ack's body as the agent reads it (an empty ack: a form opens after it)."""
    response = h.driver.command(text)
    assert response.status_code == 200, response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        return {"text": response.text, "blocks": []}
    body: dict[str, Any] = response.json()
    return body


def test_the_table_has_one_row_per_command_id() -> None:
    assert [c.id for c in COMMANDS] == list(CommandId)
    for c in COMMANDS:
        assert c.example.startswith("/ship") and c.help and c.detail, c.id
        assert "\n" not in c.help + c.detail + c.arguments, c.id


def test_help_lists_every_command_in_the_table(harness: Harness) -> None:
    ack = _ack(harness, "help")
    shown = json.dumps(ack["blocks"], ensure_ascii=False)
    for c in COMMANDS:
        assert f"`{c.example}`" in shown and c.help in shown, c.id
    assert all(c.example in ack["text"] for c in COMMANDS)  # the fallback text too


def test_the_dispatcher_routes_exactly_the_tables_names(harness: Harness) -> None:
    """Every name reaches its own feature, whatever its case; each need says its example."""
    for c in COMMANDS:
        ack = _ack(harness, c.id.upper() if c.id is CommandId.LIST else c.id)
        assert UNKNOWN not in ack["text"], c.id
        if c.needs:  # the row's own "needs an argument", with the row's example
            assert c.needs in ack["text"] and c.example in ack["text"], (c.id, ack["text"])
    assert _ack(harness, "")["text"] == ""  # the form opens


def test_an_unknown_subcommand_points_at_help(harness: Harness) -> None:
    for word in ("frobnicate", "helpme", "stat", "newx", "<!channel>", "x" * 300):
        text = _ack(harness, f"{word} EC-000-05B-MMA")["text"]
        assert UNKNOWN in text and "`/ship help`" in text, word
        assert all(c.id in text for c in COMMANDS)
    assert "`/ship &lt;!channel&gt;`" in _ack(harness, "<!channel>")["text"]
    assert harness.sandbox.requests() == []  # an unknown word costs no carrier call


def test_new_with_something_not_a_postcode_says_so(harness: Harness) -> None:
    """`/ship new <not a postcode>` is answered, not an empty form that drops what was typed."""
    opened = len(harness.fake.opened_views())
    for typed in ("Bob Smith", "<@U1>"):
        text = _ack(harness, f"new {typed}")["text"]
        assert "isn't a postcode" in text and "`/ship new SW1A 2AA`" in text, typed
    assert "`Bob Smith`" in _ack(harness, "new Bob Smith")["text"]
    assert "&lt;@U1&gt;" in _ack(harness, "new <@U1>")["text"]  # escaped, never a mention
    assert len(harness.fake.opened_views()) == opened  # no form opened
    assert _ack(harness, "new sw1a 2aa")["text"] == ""  # a postcode still opens the form


def test_the_listener_names_no_subcommand() -> None:
    """handlers/commands.py routes through the table only: no subcommand name is spelt there."""
    tree = ast.parse((ROOT / "handlers" / "commands.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert not strings & set(CommandId)


@pytest.mark.parametrize(
    ("text", "name", "argument"),
    [
        ("", CommandId.NEW, ""),
        ("SW1A 2AA", CommandId.NEW, "SW1A 2AA"),
        ("new sw1a 2aa", CommandId.NEW, "sw1a 2aa"),
        ("Status  EC-1\n", CommandId.STATUS, "EC-1"),
        ("label\nEC-1 zpl", CommandId.LABEL, "EC-1 zpl"),
    ],
)
def test_route(text: str, name: CommandId, argument: str) -> None:
    command, raw = commands.route(text)
    assert command.id is name and raw.strip() == argument


def test_the_readme_table_is_the_tables_rows() -> None:
    readme = (ROOT / "README.md").read_text()
    assert commands.readme_table() in readme, "regenerate: python -m bot.desk.commands"
    section = readme.partition(commands.BEGIN)[2].partition(commands.END)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `/ship")]
    assert len(rows) == len(COMMANDS)
    manifest = (ROOT / "app_manifest.yml").read_text()
    assert commands.rewrite(readme, manifest) == (readme, manifest)
