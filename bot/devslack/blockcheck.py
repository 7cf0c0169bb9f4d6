"""Block Kit checks: what Slack refuses in a message's or a view's blocks."""

from __future__ import annotations

import copy
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.devslack.records import (
    Fail,
)


def all_subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


# Known up front so unknown types are refused without slack_sdk logging "Unknown block".
BLOCK_TYPES = {t for c in all_subclasses(Block) if isinstance(t := getattr(c, "type", None), str)}


def block_problem(block: Any) -> str | None:
    if not isinstance(block, dict):
        return "block must be an object"
    if block.get("type") not in BLOCK_TYPES:
        return f"unsupported type: {block.get('type')!r}"
    try:
        parsed = Block.parse(copy.deepcopy(block))
        if parsed is None:
            return f"unsupported type: {block.get('type')!r}"
        parsed.to_dict()
    except SlackObjectFormationError as e:
        return str(e)
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        return f"malformed block: {e}"
    return None


def check_blocks(blocks: Any, limit: int, error: str, pointer: str) -> list[dict[str, Any]]:
    if isinstance(blocks, str):
        raise Fail("invalid_blocks_format", f"[ERROR] blocks are not valid JSON [{pointer}]")
    if not isinstance(blocks, list):
        raise Fail("invalid_blocks_format", f"[ERROR] blocks must be an array [{pointer}]")
    if len(blocks) > limit:
        raise Fail(error, f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    problems: list[str] = []
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        problem = block_problem(block)
        if problem is None and (bid := block.get("block_id")) is not None:
            problem = f"duplicate block_id {bid!r}" if bid in seen else None
            seen.add(bid)
        if problem:
            problems.append(f"[ERROR] {problem} [json-pointer:{pointer}/{i}]")
    if problems:
        raise Fail(error, *problems)
    return copy.deepcopy(blocks)
