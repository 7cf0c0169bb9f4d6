"""A carrier state in the desk's words, for the channel message and the watcher's lines."""

from __future__ import annotations

import re

from blocks import escape
from bot.carrier_states import ConsignmentState

_WORDS: dict[ConsignmentState, str] = {
    ConsignmentState.MANIFESTED: "✅ Manifested",
    ConsignmentState.DISPATCHED: "🚚 Dispatched",
    ConsignmentState.COLLECTED: "🚚 Collected by the carrier",
    ConsignmentState.AT_DROP_OFF_POINT: "🚚 At the drop-off point",
    ConsignmentState.IN_TRANSIT: "🚚 In transit",
    ConsignmentState.IN_TRANSIT_WAITING: "🚚 In transit — waiting",
    ConsignmentState.AT_CUSTOMS: "🛃 At customs",
    ConsignmentState.OUT_FOR_DELIVERY: "🚚 Out for delivery",
    ConsignmentState.AT_COLLECTION_POINT: "📍 At the collection point",
    ConsignmentState.PARTIALLY_DELIVERED: "📬 Partly delivered",
    ConsignmentState.DELIVERED: "📬 Delivered",
    ConsignmentState.DELAYED: "⚠️ Delayed",
    ConsignmentState.HELD_BY_CARRIER: "⚠️ Held by the carrier",
    ConsignmentState.DELIVERY_FAILED: "⚠️ Delivery failed",
    ConsignmentState.DELIVERY_FAILED_CARD_LEFT: "⚠️ Delivery failed — card left",
    ConsignmentState.ACTION_REQUIRED: "⚠️ Action required",
    ConsignmentState.MISSING: "⚠️ Missing",
    ConsignmentState.LOST: "⚠️ Lost",
    ConsignmentState.DAMAGED: "⚠️ Damaged",
    ConsignmentState.DELIVERED_DAMAGED: "⚠️ Delivered damaged",
    ConsignmentState.RETURN_TO_SENDER: "⚠️ Returning to sender",
    ConsignmentState.COLLECTION_FAILED: "⚠️ Collection failed",
    ConsignmentState.CARRIER_UNABLE_TO_COLLECT: "⚠️ Collection failed — carrier unable to collect",
    ConsignmentState.EXCHANGE_FAILED: "⚠️ Exchange failed",
    ConsignmentState.CANCELLED: "❌ Cancelled",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def state_words(state: ConsignmentState, raw_state: str, signed_by: str | None = None) -> str:
    """ "🚚 In transit", "📬 Delivered · signed by P. Smith"; an unknown state in words."""
    words = _WORDS.get(state) or f"ℹ️ {escape(_CAMEL.sub(' ', raw_state or 'unknown').capitalize())}"
    if signed_by and state in (ConsignmentState.DELIVERED, ConsignmentState.PARTIALLY_DELIVERED):
        words += f" · signed by {escape(signed_by)}"
    return words
