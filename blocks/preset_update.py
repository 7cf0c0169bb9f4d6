"""The ship form after the agent chose a parcel preset: the same view with the preset's size
and weight, for `views.update`.

A pure function over the view payload Slack sent; everything typed so far is kept.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from blocks.form_fields import Json, View, decimal_text, set_initial
from bot.intake.field_reader import ACTION, form_action
from bot.intake.forms import (
    PARCEL_HEIGHT,
    PARCEL_LENGTH,
    PARCEL_PRESET,
    PARCEL_WEIGHT,
    PARCEL_WIDTH,
)
from bot.intake.presets import ParcelPreset

# What views.update takes from a view payload (Slack's echo adds id, hash, state, app_id…).
_VIEW_KEYS = (
    "type",
    "callback_id",
    "title",
    "submit",
    "close",
    "blocks",
    "private_metadata",
    "clear_on_close",
    "notify_on_close",
    "external_id",
)


def apply_preset(view: Mapping[str, Any], preset: ParcelPreset) -> View:
    """The view for `views.update` after the agent chose `preset` (pass the payload's hash).

    Slack keeps what was typed in an element while its block_id and action_id stay the same,
    and ignores a new initial_value there. So the size and weight elements get a new action_id
    ("value.2": `bot.intake.forms` reads any `value.N`, and the block ids it reports errors on
    stay);
    every other field keeps its ids, and its typed value is also copied into its initial
    value, so the result is right whether or not Slack keeps the state. Still editable.
    """
    values = view.get("state", {}).get("values", {})
    sizes = {
        PARCEL_WEIGHT: preset.weight_kg,
        PARCEL_LENGTH: preset.length_cm,
        PARCEL_WIDTH: preset.width_cm,
        PARCEL_HEIGHT: preset.height_cm,
    }
    blocks = []
    for original in view["blocks"]:
        block = copy.deepcopy(original)
        block_id = block.get("block_id")
        if block.get("type") == "input":
            element = block["element"]
            if block_id in sizes:
                element["initial_value"] = decimal_text(sizes[block_id])
                element["action_id"] = _rekeyed(element.get("action_id"))
            elif isinstance(values.get(block_id), Mapping):
                state = form_action(values[block_id])
                if isinstance(state, Mapping):
                    _carry_typed(element, state)
        elif block_id == PARCEL_PRESET and isinstance(block.get("accessory"), dict):
            select = block["accessory"]
            chosen = [o for o in select.get("options", []) if o.get("value") == preset.name]
            if chosen:
                select["initial_option"] = chosen[0]
        blocks.append(block)
    updated: View = {key: view[key] for key in _VIEW_KEYS if key in view}
    if not updated.get("external_id"):
        updated.pop("external_id", None)  # Slack echoes "", which views.update won't take
    updated["blocks"] = blocks
    return updated


def _rekeyed(action_id: object) -> str:
    """ "value" -> "value.2" -> "value.3": a new id each time, so Slack drops the typed value."""
    number = 1
    if isinstance(action_id, str) and action_id.startswith(f"{ACTION}."):
        suffix = action_id.removeprefix(f"{ACTION}.")
        number = int(suffix) if suffix.isdigit() and len(suffix) <= 6 else 1
    return f"{ACTION}.{number % 999_999 + 1}"


def _carry_typed(element: Json, state: Mapping[str, Any]) -> None:
    """What the agent typed becomes the element's initial value (when the element takes it)."""
    if element.get("type") in ("static_select", "external_select"):
        option = state.get("selected_option")
        if isinstance(option, Mapping) and isinstance(option.get("value"), str):
            set_initial(element, option["value"], chosen_option=dict(option))
        elif "selected_option" in state:
            element.pop("initial_option", None)
        return
    if "value" in state:
        value = state.get("value")
        set_initial(element, value if isinstance(value, str) else "")
