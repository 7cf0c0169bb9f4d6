"""Valid `view.state.values` for the `/ship` modal, shaped as Slack sends them.

Other tests import these names; keep them stable. Override a field by its block id:
a string sets the typed value (or, for a select, the chosen option's value), None empties
it, and a dict replaces the action's whole state (for malformed payloads).

The readers at the end go the other way: what an opened modal shows, and what Slack would
submit for it as shown (with what the agent types on top).
"""

from __future__ import annotations

from typing import Any

from blocks.countries import COUNTRY_NAMES
from bot.intake.field_reader import ACTION
from bot.intake.forms import ADDRESS_COUNTRY, CUSTOMS_ORIGIN

State = dict[str, dict[str, dict[str, Any]]]

# block id -> (element type, value), for a domestic shipment of two parcels.
EXAMPLE_SHIPMENT: dict[str, tuple[str, str | None]] = {
    "recipient_name": ("plain_text_input", "Rosa Customer"),
    "recipient_email": ("email_text_input", "rosa@example.com"),
    "recipient_phone": ("plain_text_input", "+44 20 7946 0000"),
    "recipient_company": ("plain_text_input", None),
    "address_line1": ("plain_text_input", "10 Downing Street"),
    "address_line2": ("plain_text_input", None),
    "address_town": ("plain_text_input", "London"),
    "address_postcode": ("plain_text_input", "sw1a 2aa"),
    "address_country": ("external_select", "GB"),
    "parcel_count": ("number_input", "2"),
    "parcel_weight_kg": ("number_input", "1.2"),
    "parcel_length_cm": ("number_input", "30"),
    "parcel_width_cm": ("number_input", "20"),
    "parcel_height_cm": ("number_input", "10"),
    "declared_value": ("number_input", "49.99"),
    "declared_currency": ("static_select", "GBP"),
    "contents": ("plain_text_input", "Running shoes"),
    "order_number": ("plain_text_input", "1182"),
    "shipper_reference": ("plain_text_input", "SHIP-2026-11-25-0042"),
}

EXAMPLE_CUSTOMS: dict[str, tuple[str, str | None]] = {
    "customs_contents": ("plain_text_input", "Running shoes"),
    "customs_hs_code": ("plain_text_input", "6404.11"),
    "customs_origin_country": ("external_select", "GB"),
    "customs_item_value": ("number_input", "49.99"),
    "customs_reason": ("static_select", "Sale"),
}

_COUNTRY_SELECTS = {ADDRESS_COUNTRY, CUSTOMS_ORIGIN}


def example_state(**overrides: str | dict[str, Any] | None) -> State:
    """Page 1 state for a valid domestic shipment (2 × 1.2 kg to SW1A 2AA, GB)."""
    return _state(EXAMPLE_SHIPMENT, overrides)


def example_customs_state(**overrides: str | dict[str, Any] | None) -> State:
    """Page 2 state for valid customs (running shoes, HS 640411, made in GB, sale)."""
    return _state(EXAMPLE_CUSTOMS, overrides)


def _state(
    fields: dict[str, tuple[str, str | None]], overrides: dict[str, str | dict[str, Any] | None]
) -> State:
    unknown = set(overrides) - set(fields)
    if unknown:
        raise KeyError(f"not a block id of this page: {sorted(unknown)}")
    state: State = {}
    for block_id, (kind, default) in fields.items():
        value = overrides.get(block_id, default)
        if isinstance(value, dict):
            state[block_id] = {ACTION: value}
        elif kind in ("static_select", "external_select"):
            state[block_id] = {ACTION: {"type": kind, "selected_option": _option(block_id, value)}}
        else:
            state[block_id] = {ACTION: {"type": kind, "value": value}}
    return state


def _option(block_id: str, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    text = value
    if block_id in _COUNTRY_SELECTS and value in COUNTRY_NAMES:
        text = f"{COUNTRY_NAMES[value]} ({value})"
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


# --- reading an opened modal ---------------------------------------------------------------

View = dict[str, Any]


def input_blocks(view: View) -> list[dict[str, Any]]:
    return [block for block in view["blocks"] if block["type"] == "input"]


def element(view: View, block_id: str) -> dict[str, Any]:
    (block,) = (block for block in input_blocks(view) if block["block_id"] == block_id)
    return block["element"]


def initial(view: View, block_id: str) -> Any:
    """What a field shows when the modal opens: its initial value, or the option's value."""
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            element = block["element"]
            if "initial_option" in element:
                return element["initial_option"]["value"]
            return element.get("initial_value")
    raise AssertionError(f"no block {block_id}")


def shown(view: View, *block_ids: str) -> dict[str, Any]:
    """`initial` of each block, by block id: one assertion names every field that is off."""
    return {block_id: initial(view, block_id) for block_id in block_ids}


def state_from_modal_initials(view: View) -> State:
    """What Slack would submit if the agent pressed submit without touching anything."""
    state: State = {}
    for block in input_blocks(view):
        el = block["element"]
        if el["type"] in ("static_select", "external_select"):
            action = {"type": el["type"], "selected_option": el.get("initial_option")}
        else:
            action = {"type": el["type"], "value": el.get("initial_value")}
        state[block["block_id"]] = {el["action_id"]: action}
    return state


def typed_over(view: View, **typed: str) -> State:
    """What Slack submits for the modal as shown, with `typed` typed or chosen over it."""
    state = state_from_modal_initials(view)
    for block_id, value in typed.items():
        [action] = state[block_id].values()
        if "selected_option" in action:
            action["selected_option"] = {
                "text": {"type": "plain_text", "text": value},
                "value": value,
            }
        else:
            action["value"] = value
    return state
