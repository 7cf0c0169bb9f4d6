"""Pure functions from our models to Block Kit JSON; no Slack calls, no wire models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]


@dataclass(frozen=True)
class Message:
    """A message body: `text` is the notification/screen-reader fallback Slack asks for."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text[:3000])}
    if block_id:
        block["block_id"] = block_id
    if accessory:
        block["accessory"] = accessory
    return block


def context(*texts: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(t[:3000]) for t in texts[:10]]}


def button(
    text: str,
    action_id: str,
    value: str,
    *,
    style: str | None = None,
    confirm: Block | None = None,
) -> Block:
    element: Block = {
        "type": "button",
        "text": plain(text[:75]),
        "action_id": action_id,
        "value": value[:2000],
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def escape(text: str) -> str:
    """Slack mrkdwn escaping: user text must not become mentions or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
