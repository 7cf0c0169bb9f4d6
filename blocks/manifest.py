"""Manifest summaries for the channel and the one-line notes in each thread."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from blocks import Block, Message, actions, button, context, escape, section
from blocks.ids import MANIFEST_TRY_AGAIN
from bot.models import ConsignmentRecord


def text_blocks(text: str) -> list[Block]:
    return [section(text)]


def summary(
    user: str,
    by_carrier: Counter[str],
    failed_records: Sequence[ConsignmentRecord],
    failed_refs: Sequence[str],
    *,
    cancelled: Sequence[str] = (),
) -> Message:
    total = sum(by_carrier.values())
    carriers = ", ".join(f"{escape(name)} {n}" for name, n in by_carrier.most_common())
    noun = "consignment" if total == 1 else "consignments"
    text = f"✅ Queued {total} {noun} to manifest"
    if carriers:
        text += f": {carriers}"
    if failed_refs:
        text += f"; failed: {', '.join(escape(r) for r in failed_refs[:20])}"
        if len(failed_refs) > 20:
            text += f" (+{len(failed_refs) - 20} more)"
    blocks: list[Block] = [section(text), context(f"Requested by <@{user}>")]
    if cancelled:
        refs = ", ".join(escape(r) for r in cancelled[:20])
        blocks.append(
            context(f"⚠️ Cancelled at Sorted PRO, not by shipbot, so not manifested: {refs}")
        )
    if failed_records:
        blocks.append(
            context("The failed ones stay allocated: run `/ship manifest` again to retry them.")
        )
    return Message(text=text, blocks=blocks)


def thread_line(user: str) -> str:
    return f"🚚 Manifested with the carrier (requested by <@{user}>)."


def manifest_failed(reason: str, correlation_id: str | None) -> Message:
    blocks: list[Block] = [
        section(f"⚠️ {reason}"),
        actions(button("Try again", MANIFEST_TRY_AGAIN, "manifest", style="primary")),
    ]
    if correlation_id:
        blocks.append(context(f"Carrier correlation id for support: `{escape(correlation_id)}`"))
    return Message(text=f"⚠️ {reason}", blocks=blocks)
