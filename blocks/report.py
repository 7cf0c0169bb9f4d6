"""`/ship report`: spend by agent and by carrier (count, net, gross)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from blocks import Block, Message, context, escape, section
from blocks.consignment import money


def _totals(rows: Sequence[dict[str, Any]], key: str) -> list[str]:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    for r in rows:
        total = sums[(str(r[key]), r["currency"])]
        total[0] += r["count"]
        total[1] += r["net"]
        total[2] += r["gross"]
    lines = []
    for (name, currency), (count, net, gross) in sorted(sums.items(), key=lambda kv: -kv[1][2]):
        who = f"<@{name}>" if key == "agent" else escape(name)  # carrier names are its text
        lines.append(
            f"• {who}: {int(count)} label{'s' if count != 1 else ''} · net "
            f"{money(net, currency)} · gross {money(gross, currency)}"
        )
    return lines


def spend_report(rows: Sequence[dict[str, Any]], label: str) -> Message:
    count = sum(r["count"] for r in rows)
    if not rows:
        text = f"🧾 No labels bought {label}."
        return Message(text=text, blocks=[section(text)])
    head = f"🧾 *Spend {label}*: {count} label{'s' if count != 1 else ''}"
    blocks: list[Block] = [
        section(head),
        section("*By agent*\n" + "\n".join(_totals(rows, "agent")[:40])),
        section("*By carrier*\n" + "\n".join(_totals(rows, "carrier")[:40])),
        context("The same figures are on their way to your DM as a CSV."),
    ]
    return Message(text=f"Spend {label}: {count} labels", blocks=blocks)
