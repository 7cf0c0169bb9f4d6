"""Block Kit as plain text, for the demo transcript and readable test failures.

It shows what an agent would read (names for mentions, fallback text for dates, link labels,
buttons as `[Label]`), not the JSON, so a transcript can be reviewed like a chat log.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

_ANGLE = re.compile(r"<([^<>]+)>")


def _angle(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label.lstrip("#") or target[1:])
    if target.startswith("!date^"):
        return label or target.split("^")[1]
    if target.startswith("!subteam^"):
        return label or "@" + target.split("^")[1]
    if target.startswith("!"):
        return "@" + target[1:]
    return label or target


def render_mrkdwn(text: str) -> str:
    """Slack's `<…>` escapes to what a reader sees; emphasis markers are kept."""
    return html.unescape(_ANGLE.sub(_angle, text))


def _text(obj: Any) -> str:
    if isinstance(obj, str):
        return render_mrkdwn(obj)
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text") or "")
    return render_mrkdwn(text) if obj.get("type") == "mrkdwn" else text


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[{_text(element.get('text'))}]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return _text(element)
    if kind == "overflow":
        return "[⋯]"
    if kind == "datepicker":
        return f"[📅 {element.get('initial_date') or 'pick a date'}]"
    chosen = element.get("initial_option") or {}
    label = _text(chosen.get("text")) or _text(element.get("placeholder")) or "Choose"
    if kind == "checkboxes" or kind == "radio_buttons":
        options = " / ".join(_text(o.get("text")) for o in element.get("options") or [])
        return f"( {options} )"
    if isinstance(kind, str) and kind.endswith("select"):
        return f"[{label} ▾]"
    value = element.get("initial_value") or _text(element.get("placeholder"))
    return f"[{value or '…'}]"


def _rich_text(node: Any) -> str:
    if isinstance(node, list):
        return "".join(_rich_text(n) for n in node)
    if not isinstance(node, Mapping):
        return ""
    kind = node.get("type")
    if kind == "text" or kind == "link":
        return str(node.get("text") or node.get("url") or "")
    if kind == "user":
        return f"@{node.get('user_id', '')}"
    if kind == "channel":
        return f"#{node.get('channel_id', '')}"
    if kind == "emoji":
        return f":{node.get('name', '')}:"
    inner = _rich_text(node.get("elements") or [])
    return inner + "\n" if kind in ("rich_text_section", "rich_text_preformatted") else inner


def _block(block: Mapping[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return [f"# {_text(block.get('text'))}"]
    if kind == "divider":
        return ["---"]
    if kind == "section":
        lines = _text(block.get("text")).splitlines() or [""]
        fields = [_text(f) for f in block.get("fields") or []]
        if fields:
            lines.append(" | ".join(fields))
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            lines[0] = f"{lines[0]}   {_element(accessory)}".strip()
        return [line for line in lines if line] or [""]
    if kind == "context":
        return ["  " + " ".join(_element(e) for e in block.get("elements") or [])]
    if kind == "actions":
        return [" ".join(_element(e) for e in block.get("elements") or [])]
    if kind == "input":
        element = block.get("element") or {}
        optional = " (optional)" if block.get("optional") else ""
        return [f"{_text(block.get('label'))}{optional}: {_element(element)}"]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "markdown":
        return [render_mrkdwn(str(block.get("text") or ""))]
    if kind == "rich_text":
        return _rich_text(block.get("elements") or []).rstrip("\n").splitlines()
    return [f"[{kind}]"]


def render_blocks(blocks: Iterable[Mapping[str, Any]]) -> str:
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block(block))
    return "\n".join(lines)


def render_message(msg: Any) -> str:
    """A Message, an Ephemeral, or any dict with text/blocks/files (e.g. a respond() body)."""

    def get(key: str) -> Any:
        return msg.get(key) if isinstance(msg, Mapping) else getattr(msg, key, None)

    blocks = get("blocks") or []
    body = render_blocks(blocks) if blocks else render_mrkdwn(str(get("text") or ""))
    lines = [body] if body else []
    for f in get("files") or []:
        title = f.get("title")
        name = f.get("name", "")
        lines.append(f"📎 {name}" + (f" ({title})" if title and title != name else ""))
    return "\n".join(lines)
