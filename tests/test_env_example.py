""".env.example lists every setting the settings class reads, and shows its real default."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_core import PydanticUndefined

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]+)=(.*)$")


def _entries() -> list[tuple[bool, str, str]]:
    found = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = LINE.match(line)
        if match:
            found.append((bool(match.group(1)), match.group(2), match.group(3)))
    return found


def test_every_setting_is_listed_once() -> None:
    names = [name for _, name, _ in _entries()]
    assert len(names) == len(set(names)), "a setting is listed twice"
    assert set(names) == {field.upper() for field in Settings.model_fields}


def test_defaults_shown_are_the_defaults() -> None:
    for commented, name, value in _entries():
        if not commented or not value:
            continue
        field = name.lower()
        info = Settings.model_fields[field]
        default = info.default if info.default is not PydanticUndefined else info.get_default()
        parsed = Settings.model_validate({field: value}).__dict__[field]
        assert parsed == default, f"{name}: .env.example says {value!r}, the default is {default!r}"


def test_the_required_lines_are_what_a_mode_cannot_start_without() -> None:
    """A line to fill in is one `serve` (Socket Mode or --http) refuses to start without."""
    required = {name for commented, name, _ in _entries() if not commented}
    unset = Settings.model_validate({name.lower(): "" for name in required})
    refused = {
        problem.split(" ", 1)[0]
        for command in ("serve-socket", "serve-http")
        for problem in unset.problems(command)
    }
    assert required == refused == {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"}
