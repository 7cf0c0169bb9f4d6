"""The building blocks of our modals: the view itself, input blocks and their elements,
and the country selects' options.

Pure functions to Block Kit JSON shared by the ship form, its customs page and the return
form, so every field of every page is built, limited and prefilled the same way. The country
selects are external: `handlers/options.py` answers each keystroke with `country_options`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from blocks import escape
from blocks.countries import COMMON_COUNTRY_CODES, COUNTRIES, COUNTRY_NAMES
from bot.intake.field_reader import ACTION
from bot.intake.forms import MAX_EMAIL, MAX_SIDE_CM, MIN_SIDE_CM
from bot.money import CURRENCY_SYMBOLS

MAX_PRIVATE_METADATA = 3000  # Slack's limit; a longer view is refused by views.open

MAX_OPTIONS = 100  # Slack's limit on an options response

_SUBMIT = "Get quotes"
_CLOSE = "Cancel"
_COMMON_GROUP = "Common"

View = dict[str, Any]
Json = dict[str, Any]

Initial = Mapping[str, str]
"""block_id -> what the field shows at first: typed text, or a select's option value."""


def modal(callback_id: str, title: str, private_metadata: str, blocks: list[Json]) -> View:
    """A modal with our submit and close words; refuses metadata Slack would refuse."""
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata is {len(private_metadata)} characters; "
            f"Slack allows {MAX_PRIVATE_METADATA}"
        )
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title),
        "submit": plain(_SUBMIT),
        "close": plain(_CLOSE),
        "blocks": blocks,
    }
    if private_metadata:  # Slack sends "" back either way
        view["private_metadata"] = private_metadata
    return view


def with_notice(view: View, text: str, *, emoji: str = "⚠️") -> View:
    """The same form with a warning on top: why it came back (e.g. the carrier refused it)."""
    notice = section(f"{emoji} {escape(text)}")
    return {**view, "blocks": [notice, *view["blocks"]]}


def plain(text: str) -> Json:
    return {"type": "plain_text", "text": text}


def header(text: str) -> Json:
    return {"type": "header", "text": plain(text)}


def section(mrkdwn: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def field(
    block_id: str, label: str, element: Json, *, optional: bool = False, hint: str | None = None
) -> Json:
    """An input block; its element's action id is the one the parser reads."""
    block: Json = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {**element, "action_id": ACTION},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block


def text_input(
    initial: str | None, max_length: int, *, placeholder: str | None = None, focus: bool = False
) -> Json:
    element: Json = {"type": "plain_text_input", "max_length": max_length}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(placeholder)
    if focus:
        element["focus_on_load"] = True
    return element


def email_input(initial: str | None) -> Json:
    element: Json = {"type": "email_text_input", "placeholder": plain("name@example.com")}
    if initial:
        element["initial_value"] = initial
    return element


def number_input(initial: str | None, *, decimal: bool, low: Decimal, high: Decimal) -> Json:
    element: Json = {
        "type": "number_input",
        "is_decimal_allowed": decimal,
        "min_value": decimal_text(low),
        "max_value": decimal_text(high),
    }
    if initial:
        element["initial_value"] = initial
    return element


def side_input(value: Decimal | None) -> Json:
    """One side of a parcel, in cm."""
    return number_input(
        decimal_text(value) if value is not None else None,
        decimal=True,
        low=MIN_SIDE_CM,
        high=MAX_SIDE_CM,
    )


def decimal_text(value: Decimal) -> str:
    """Plain notation: str(Decimal("1E+1")) would be "1E+1", which Slack won't take."""
    return f"{value:f}"


def option(text: str, value: str) -> Json:
    return {"text": plain(text), "value": value}


def currency_option(code: str) -> Json:
    symbol = CURRENCY_SYMBOLS.get(code)
    return option(f"{code} ({symbol})" if symbol else code, code)


def static_select(options: list[Json], initial: Json | None) -> Json:
    element: Json = {
        "type": "static_select",
        "placeholder": plain("Choose…"),
        "options": options,
    }
    if initial is not None and initial in options:
        element["initial_option"] = initial
    return element


def country_select(initial_code: str | None) -> Json:
    """An external select: the options come from `country_options` as the agent types.

    A static list of all 249 countries made each view ~27 kB, and Slack echoes the whole
    view back in every submission: parsing that cost the ack ~10 ms of CPU.
    """
    element: Json = {
        "type": "external_select",
        "placeholder": plain("Type a country or its code…"),
        "min_query_length": 0,
    }
    if initial_code in COUNTRY_NAMES:
        element["initial_option"] = country_option(initial_code)
    return element


def set_initial(element: Json, value: str, *, chosen_option: Json | None = None) -> None:
    """Show `value` at first; "" clears it; a value the element can't take is left out."""
    kind = element.get("type")
    if kind in ("static_select", "external_select"):
        element.pop("initial_option", None)
        chosen = chosen_option
        if kind == "static_select":
            chosen = next((o for o in element.get("options", []) if o.get("value") == value), None)
        elif chosen is None and value in COUNTRY_NAMES:  # the country selects
            chosen = country_option(value)
        if chosen is not None:
            element["initial_option"] = chosen
        return
    element.pop("initial_value", None)
    if not value:
        return
    if kind == "number_input":
        try:
            number = Decimal(value)
            low, high = Decimal(element["min_value"]), Decimal(element["max_value"])
        except (InvalidOperation, KeyError, TypeError):
            return
        if number.is_finite() and low <= number <= high:
            element["initial_value"] = value
        return
    limit = element.get("max_length", MAX_EMAIL)
    if len(value) <= limit:
        element["initial_value"] = value


def country_label(code: str) -> str:
    """ "United Kingdom (GB)"; an unknown code is shown as itself."""
    name = COUNTRY_NAMES.get(code)
    return f"{name} ({code})" if name else code


def country_option(code: str) -> Json:
    """The select option for a country, exactly as the country selects list it."""
    return option(country_label(code), code)


def country_options(query: str) -> Json:
    """What the country select offers for `query`: common destinations first, then the
    countries whose name or code matches, one group per initial letter; every country at
    most once, and at most 100 options in all.
    """
    wanted = " ".join(query.split()).casefold()[:40]

    def matches(code: str, name: str) -> bool:
        return not wanted or wanted == code.casefold() or wanted in name.casefold()

    groups = {
        _COMMON_GROUP: [
            country_option(code)
            for code in COMMON_COUNTRY_CODES
            if matches(code, COUNTRY_NAMES[code])
        ]
    }
    for code, name in COUNTRIES:
        if code not in COMMON_COUNTRY_CODES and matches(code, name):
            groups.setdefault(_initial(name), []).append(country_option(code))
    shown: list[Json] = []
    budget = MAX_OPTIONS
    for label, options in groups.items():
        if options and budget > 0:
            shown.append({"label": plain(label), "options": options[:budget]})
            budget -= len(options[:budget])
    return {"option_groups": shown}


def _initial(name: str) -> str:
    """ "Åland Islands" files under A."""
    return unicodedata.normalize("NFKD", name)[0].upper()
