"""app_manifest.yml: valid shape, Socket Mode, and exactly the scopes the code needs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from blocks.ids import SHIP_TO_ADDRESS

ROOT = Path(__file__).resolve().parent.parent

# Every Web API method the code calls, and the bot scope it needs (None: no scope).
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "views.open": None,
    "views.update": None,
    "views.publish": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "conversations.join": "channels:join",
    "conversations.open": "im:write",
    "apps.connections.open": None,  # app-level token (connections:write), not a bot scope
    # Needs channels:read, which the manifest does not ask for: SlackOut.channel_name says
    # None on any refusal (missing_scope included) and the form names the channel by id.
    "conversations.info": None,
}
CODE_DIRS = ("bot", "handlers", "blocks")


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "app_manifest.yml").read_text())


def _methods_called() -> set[str]:
    """Web API methods named in the code: _call/send("x.y"), client.x_y(...), files_upload_v2."""
    found: set[str] = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "devslack" in path.parts or "sandbox" in path.parts:
                continue  # the stand-ins answer these methods; they don't call them
            text = path.read_text()
            found |= set(re.findall(r'(?:_call|send)\(\s*"([a-z]+\.[A-Za-z]+)"', text))
            for family, method in re.findall(r"client\.(chat|views|conversations)_(\w+)\(", text):
                camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), method)
                found.add(f"{family}.{camel}")
            if "files_upload_v2" in text:
                found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    return found


def test_manifest_shape_and_socket_mode() -> None:
    manifest = _manifest()
    assert 1 <= len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ship" and command["description"] and command["usage_hint"]
    assert "url" not in command  # Socket Mode: no request URLs
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["token_rotation_enabled"] is False


def test_scopes_are_exactly_what_the_code_calls() -> None:
    called = _methods_called()
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add these methods to METHOD_SCOPES: {unknown}"
    needed = {METHOD_SCOPES[m] for m in called} - {None} | {"commands"}
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed
    assert {"chat.postMessage", "chat.update", "views.open"} <= called


def test_message_shortcut_ship_to_this_address() -> None:
    """Shortcuts need only the `commands` scope, which /ship already asks for."""
    [shortcut] = _manifest()["features"]["shortcuts"]
    assert shortcut == {
        "name": "Ship to this address",
        "type": "message",
        "callback_id": SHIP_TO_ADDRESS,
        "description": shortcut["description"],
    }
    assert len(shortcut["name"]) <= 24 and 1 <= len(shortcut["description"]) <= 150
    assert "commands" in _manifest()["oauth_config"]["scopes"]["bot"]


def test_usage_hint_names_every_command() -> None:
    """The hint is drawn from the command table (`python -m bot.desk.commands` writes it)."""
    from bot.desk.commands import COMMANDS, usage_hint

    [command] = _manifest()["features"]["slash_commands"]
    hint = command["usage_hint"]
    assert len(hint) <= 1000  # Slack's limit for a usage hint
    assert hint == usage_hint(), "regenerate: python -m bot.desk.commands"
    words = re.findall(r"[a-z]+", hint.split("]")[0])
    assert words == [c.id for c in COMMANDS]
    assert {"again", "report", "manifest", "status"} <= set(words)  # issue 28's missing ones


def test_messages_tab_is_on_and_read_only() -> None:
    """The report's CSV is DMed: people need the Messages tab to find it again."""
    home = _manifest()["features"]["app_home"]
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True


def test_check_asks_for_the_manifest_scopes() -> None:
    """`shipbot check` compares the token's scopes with these; the stand-in grants them."""
    from bot.check import REQUIRED_SCOPES
    from bot.devslack.base import GRANTED_SCOPES

    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    assert set(REQUIRED_SCOPES) == scopes == set(GRANTED_SCOPES)
