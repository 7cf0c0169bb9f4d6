"""The `/ship` modal: page 1 (recipient, parcels, value) and page 2 (customs), as plain dicts.

Pure functions, so handlers can `views_open`/`ack(response_action=...)` them and tests can
check them without Slack. Field ids and limits come from `bot.intake.forms`, the parser of the
submission, so the client-side hints set here always match what the server enforces.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from blocks.countries import COMMON_COUNTRY_CODES, COUNTRIES, COUNTRY_NAMES
from blocks.ids import CallbackId
from bot.intake.address import (
    COUNTRY,
    NAME,
    PHONE,
    POSTCODE,
    STREET,
    TOWN,
    AddressGuess,
    uk_postcode_country,
)
from bot.intake.forms import (
    ACTION,
    ADDRESS_COUNTRY,
    ADDRESS_LINE1,
    ADDRESS_LINE2,
    ADDRESS_POSTCODE,
    ADDRESS_TOWN,
    CONTENTS,
    CURRENCIES,
    CURRENCY_SYMBOLS,
    CUSTOMS_BLOCK_IDS,
    CUSTOMS_CONTENTS,
    CUSTOMS_HS_CODE,
    CUSTOMS_ITEM_VALUE,
    CUSTOMS_ORIGIN,
    CUSTOMS_REASON,
    DECLARED_CURRENCY,
    DECLARED_VALUE,
    DEFAULT_COUNTRY,
    DEFAULT_CURRENCY,
    DEFAULT_ORIGIN_COUNTRY,
    MAX_ADDRESS_LINE,
    MAX_COMPANY,
    MAX_CONTENTS,
    MAX_EMAIL,
    MAX_NAME,
    MAX_ORDER_NUMBER,
    MAX_PARCELS,
    MAX_PHONE,
    MAX_POSTCODE,
    MAX_SHIPPER_REFERENCE,
    MAX_SIDE_CM,
    MAX_TOWN,
    MAX_VALUE,
    MAX_WEIGHT_KG,
    MIN_PARCELS,
    MIN_SIDE_CM,
    MIN_VALUE,
    MIN_WEIGHT_KG,
    ORDER_NUMBER,
    PARCEL_COUNT,
    PARCEL_HEIGHT,
    PARCEL_LENGTH,
    PARCEL_PRESET,
    PARCEL_WEIGHT,
    PARCEL_WIDTH,
    RECIPIENT_COMPANY,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_PHONE,
    SHIPMENT_BLOCK_IDS,
    SHIPPER_REFERENCE,
    form_action,
    format_money,
    normalise_uk_postcode,
)
from bot.intake.presets import ParcelPreset
from bot.models import Customs, ExportReason, Money, ShipmentRequest

__all__ = [
    "ACTION",
    "ADDRESS_COUNTRY",
    "ADDRESS_LINE1",
    "ADDRESS_LINE2",
    "ADDRESS_POSTCODE",
    "ADDRESS_TOWN",
    "CONTENTS",
    "CUSTOMS_BLOCK_IDS",
    "CUSTOMS_CONTENTS",
    "CUSTOMS_HS_CODE",
    "CUSTOMS_ITEM_VALUE",
    "CUSTOMS_ORIGIN",
    "CUSTOMS_REASON",
    "DECLARED_CURRENCY",
    "DECLARED_VALUE",
    "MAX_PRIVATE_METADATA",
    "ORDER_NUMBER",
    "PARCEL_COUNT",
    "PARCEL_HEIGHT",
    "PARCEL_LENGTH",
    "PARCEL_PRESET",
    "PARCEL_WEIGHT",
    "PARCEL_WIDTH",
    "RECIPIENT_COMPANY",
    "RECIPIENT_EMAIL",
    "RECIPIENT_NAME",
    "RECIPIENT_PHONE",
    "SHIPMENT_BLOCK_IDS",
    "SHIPPER_REFERENCE",
    "SHIP_CUSTOMS",
    "SHIP_FORM",
    "address_modal",
    "address_notice",
    "apply_preset",
    "carry_customs",
    "country_label",
    "country_option",
    "country_options",
    "customs_modal",
    "postcode_prefill",
    "prefill_from_address",
    "ship_again_draft",
    "ship_again_modal",
    "shipment_modal",
    "with_notice",
]

SHIP_FORM = CallbackId.SHIP_FORM
SHIP_CUSTOMS = CallbackId.SHIP_CUSTOMS

MAX_PRIVATE_METADATA = 3000  # Slack's limit; a longer view is refused by views.open

_TITLE = "Ship a parcel"
_CUSTOMS_TITLE = "Customs details"
_SUBMIT = "Get quotes"
_CLOSE = "Cancel"
_COMMON_GROUP = "Common"
_HS_CODE_CHARS = 16  # 10 digits plus the dots and spaces people type, like "6404.11.00.00"

View = dict[str, Any]
Json = dict[str, Any]


Initial = Mapping[str, str]
"""block_id -> what the field shows at first: typed text, or a select's option value."""


def shipment_modal(
    private_metadata: str,
    *,
    shipper_reference: str,
    draft: ShipmentRequest | None = None,
    initial: Initial | None = None,
    presets: Sequence[ParcelPreset] = (),
) -> View:
    """Page 1. `draft` re-opens it filled in ("edit and retry"); its own shipper reference is
    ignored in favour of `shipper_reference`, so the caller decides whether a retry reuses it.

    `initial` fills single fields over the draft (an address from a message, a postcode);
    a value the field can't take (too long, out of range) is left out, never cut, so Slack
    never refuses the view. `presets` adds the parcel-preset select on top.
    """
    recipient = draft.recipient if draft else None
    parcel = draft.parcel if draft else None
    blocks = [
        *([_preset_block(presets)] if presets else []),
        _header("Recipient"),
        _input(
            RECIPIENT_NAME,
            "Name",
            _text(recipient.name if recipient else None, MAX_NAME, focus=True),
        ),
        _input(
            RECIPIENT_EMAIL,
            "Email",
            _email(recipient.email if recipient else None),
            optional=True,
            hint="For the carrier's delivery updates.",
        ),
        _input(
            RECIPIENT_PHONE,
            "Phone",
            _text(
                recipient.phone if recipient else None, MAX_PHONE, placeholder="+44 20 7946 0000"
            ),
            hint="The driver calls or texts it if there's a problem.",
        ),
        _input(
            RECIPIENT_COMPANY,
            "Company",
            _text(recipient.company if recipient else None, MAX_COMPANY),
            optional=True,
        ),
        _input(
            ADDRESS_LINE1,
            "Address line 1",
            _text(recipient.line1 if recipient else None, MAX_ADDRESS_LINE),
        ),
        _input(
            ADDRESS_LINE2,
            "Address line 2",
            _text(recipient.line2 if recipient else None, MAX_ADDRESS_LINE),
            optional=True,
        ),
        _input(
            ADDRESS_TOWN,
            "Town or city",
            _text(recipient.town if recipient else None, MAX_TOWN),
        ),
        _input(
            ADDRESS_POSTCODE,
            "Postcode",
            _text(recipient.postcode if recipient else None, MAX_POSTCODE),
            optional=True,
            hint="Leave it empty only where addresses have no postcode, like Hong Kong.",
        ),
        _input(
            ADDRESS_COUNTRY,
            "Country",
            _country_select(recipient.country if recipient else DEFAULT_COUNTRY),
        ),
        _header("Parcels"),
        _input(
            PARCEL_COUNT,
            "Number of parcels",
            _number(
                str(draft.parcel_count) if draft else "1",
                decimal=False,
                low=Decimal(MIN_PARCELS),
                high=Decimal(MAX_PARCELS),
            ),
            hint="All the same weight and size. Different parcels need separate shipments.",
        ),
        _input(
            PARCEL_WEIGHT,
            "Weight of one parcel (kg)",
            _number(
                _decimal_text(parcel.weight_kg) if parcel else None,
                decimal=True,
                low=MIN_WEIGHT_KG,
                high=MAX_WEIGHT_KG,
            ),
        ),
        *(
            _input(block_id, label, _side(value))
            for block_id, label, value in (
                (PARCEL_LENGTH, "Length (cm)", parcel.length_cm if parcel else None),
                (PARCEL_WIDTH, "Width (cm)", parcel.width_cm if parcel else None),
                (PARCEL_HEIGHT, "Height (cm)", parcel.height_cm if parcel else None),
            )
        ),
        _header("Contents"),
        _input(
            CONTENTS,
            "What's inside",
            _text(draft.contents if draft else None, MAX_CONTENTS, placeholder="Running shoes"),
        ),
        _input(
            DECLARED_VALUE,
            "Value of the contents",
            _number(
                _decimal_text(draft.value.amount) if draft else None,
                decimal=True,
                low=MIN_VALUE,
                high=MAX_VALUE,
            ),
            hint="All parcels together. Used for cover and, abroad, for customs.",
        ),
        _input(
            DECLARED_CURRENCY,
            "Currency",
            _select(
                [_currency_option(code) for code in CURRENCIES],
                _currency_option(draft.value.currency if draft else DEFAULT_CURRENCY),
            ),
        ),
        _input(
            ORDER_NUMBER,
            "Order number",
            _text(draft.order_number if draft else None, MAX_ORDER_NUMBER),
            optional=True,
            hint="Lets anyone find this shipment by order later.",
        ),
        _input(
            SHIPPER_REFERENCE,
            "Shipper reference",
            _text(shipper_reference, MAX_SHIPPER_REFERENCE),
            hint="Must be unique. A new one is filled in; change it only if you need to.",
        ),
    ]
    for block in blocks:
        if block["type"] == "input" and initial and block["block_id"] in initial:
            _set_initial(block["element"], initial[block["block_id"]])
    return _modal(SHIP_FORM, _TITLE, private_metadata, blocks)


def customs_modal(private_metadata: str, *, shipment: ShipmentRequest) -> View:
    """Page 2, for parcels leaving the UK; filled from page 1 (or from `shipment.customs`)."""
    customs = shipment.customs
    declared = shipment.value
    country = country_label(shipment.recipient.country)
    parcels = f"{shipment.parcel_count} parcel{'s' if shipment.parcel_count != 1 else ''}"
    reasons = [_option(reason.value, reason.value) for reason in ExportReason]
    blocks = [
        _section(
            f"🧾 Customs declaration (CN22/CN23) for {parcels} to *{_escape(country)}*, "
            f"declared value {format_money(declared.amount, declared.currency)}."
        ),
        _input(
            CUSTOMS_CONTENTS,
            "Description of the goods",
            _text(customs.contents if customs else shipment.contents, MAX_CONTENTS),
            hint='Be specific, like "Men\'s leather running shoes": customs reject vague ones.',
        ),
        _input(
            CUSTOMS_HS_CODE,
            "HS tariff code",
            _text(customs.hs_code if customs else None, _HS_CODE_CHARS, placeholder="6404.11"),
            hint="6 to 10 digits. Find it at trade-tariff.service.gov.uk.",
        ),
        _input(
            CUSTOMS_ORIGIN,
            "Country of origin",
            _country_select(customs.origin_country if customs else DEFAULT_ORIGIN_COUNTRY),
            hint="Where the goods were made, not where they ship from.",
        ),
        _input(
            CUSTOMS_ITEM_VALUE,
            f"Value of the goods ({declared.currency})",
            _number(
                _decimal_text(customs.item_value.amount if customs else declared.amount),
                decimal=True,
                low=MIN_VALUE,
                high=declared.amount,
            ),
            hint=f"Up to the declared value, {format_money(declared.amount, declared.currency)}.",
        ),
        _input(
            CUSTOMS_REASON,
            "Reason for export",
            _select(
                reasons,
                _option(customs.reason.value, customs.reason.value) if customs else None,
            ),
        ),
    ]
    return _modal(SHIP_CUSTOMS, _CUSTOMS_TITLE, private_metadata, blocks)


def with_notice(view: View, text: str, *, emoji: str = "⚠️") -> View:
    """The same form with a warning on top: why it came back (e.g. the carrier refused it)."""
    notice = _section(f"{emoji} {_escape(text)}")
    return {**view, "blocks": [notice, *view["blocks"]]}


# --- prefills: the same form, filled in from a message, a postcode or a past consignment ---


def prefill_from_address(guess: AddressGuess) -> dict[str, str]:
    """Initial values for `shipment_modal(initial=...)` from what `parse_address` read.

    Only what was found, and only what fits its field; the notice says what's left to type.
    """
    return _address_fields(guess)[0]


def address_notice(guess: AddressGuess) -> str | None:
    """ "Couldn't find a postcode or a phone number in the message." (None: all found)."""
    _, too_long = _address_fields(guess)
    missing = list(guess.missing)
    if {STREET, TOWN, POSTCODE} <= set(missing):
        return "Couldn't find an address in the message: fill in the form."
    sentences = []
    if missing:
        wanted = [_MISSING_WORDS.get(label, label) for label in missing]
        sentences.append(f"Couldn't find {_or(wanted)} in the message.")
    if too_long:
        sentences.append(f"Too long for the form, so left for you: {_or(too_long, 'and')}.")
    if guess.line2 and guess.line3 and "address line 3" not in too_long:
        sentences.append("Check address line 2: two lines of the message share it.")
    return " ".join(sentences) or None


def address_modal(
    private_metadata: str,
    *,
    shipper_reference: str,
    guess: AddressGuess,
    presets: Sequence[ParcelPreset] = (),
) -> View:
    """The form for "Ship to this address": filled from `guess`, what's missing said on top."""
    view = shipment_modal(
        private_metadata,
        shipper_reference=shipper_reference,
        initial=prefill_from_address(guess),
        presets=presets,
    )
    notice = address_notice(guess)
    return with_notice(view, notice) if notice else view


def postcode_prefill(text: str) -> dict[str, str] | None:
    """`/ship sw1a2aa` -> the postcode (and JE/GG/IM for theirs); None: not a UK postcode."""
    postcode = normalise_uk_postcode(text) if len(text) <= 2 * MAX_POSTCODE else None
    if postcode is None:
        return None
    return {ADDRESS_POSTCODE: postcode, ADDRESS_COUNTRY: uk_postcode_country(postcode)}


def ship_again_draft(request: ShipmentRequest) -> ShipmentRequest:
    """A past consignment as a new one: same recipient, parcels, contents, value and customs;
    no order number (a new order has its own). The caller gives a new shipper reference.
    """
    return request.model_copy(update={"order_number": None})


def ship_again_modal(
    private_metadata: str,
    *,
    request: ShipmentRequest,
    shipper_reference: str,
    presets: Sequence[ParcelPreset] = (),
    keep_order_number: bool = False,
) -> View:
    """The form for "Ship again", saying what was copied and what's left to the agent.

    `keep_order_number`: a replacement of the same order (the delivery desk's "Ship a
    replacement"), filled in from the carrier's record."""
    view = shipment_modal(
        private_metadata,
        shipper_reference=shipper_reference,
        draft=request if keep_order_number else ship_again_draft(request),
        presets=presets,
    )
    customs = " and customs" if request.customs else ""
    if keep_order_number:
        return with_notice(
            view,
            f"A replacement for {request.shipper_reference}, filled in from Sorted PRO's "
            "record: recipient, address, parcels and the order number. Check them and send.",
            emoji="🔁",
        )
    return with_notice(
        view,
        f"Copied from {request.shipper_reference}: recipient, parcels, contents{customs}. "
        "Add the new order number and check the parcels.",
        emoji="📦",
    )


def carry_customs(shipment: ShipmentRequest, previous: Customs | None) -> ShipmentRequest:
    """Page 1's `shipment` with a past consignment's customs, for `customs_modal`'s prefill.

    The item value moves to the new currency and never above the new declared value (the
    page would refuse it): if either changed, it starts at the declared value, as a new one.
    """
    if previous is None:
        return shipment
    declared = shipment.value
    item = previous.item_value
    if item.currency != declared.currency or item.amount > declared.amount:
        item = Money(amount=declared.amount, currency=declared.currency)
    return shipment.model_copy(update={"customs": previous.model_copy(update={"item_value": item})})


# --- parcel presets ---------------------------------------------------------------------------


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
                element["initial_value"] = _decimal_text(sizes[block_id])
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
_PRESET_PROMPT = "📦 *Parcel preset*: fills in the size and weight below."
_MAX_OPTION_TEXT = 75

_MISSING_WORDS = {
    NAME: "a name",
    STREET: "a street address",
    TOWN: "a town",
    POSTCODE: "a postcode",
    COUNTRY: "the country",
    PHONE: "a phone number",
}


def _preset_block(presets: Sequence[ParcelPreset]) -> Json:
    """A section with a select, not an input: it dispatches block_actions the moment it
    changes, can never block a submission, and the parser never sees it.
    """
    options = [_option(_preset_label(preset), preset.name) for preset in presets]
    select: Json = {
        "type": "static_select",
        "action_id": PARCEL_PRESET,
        "placeholder": _plain("Choose a box…"),
        "options": options,
    }
    return {
        "type": "section",
        "block_id": PARCEL_PRESET,
        "text": {"type": "mrkdwn", "text": _PRESET_PROMPT},
        "accessory": select,
    }


def _preset_label(preset: ParcelPreset) -> str:
    label = f"{preset.name} · {preset.describe()}"
    return label if len(label) <= _MAX_OPTION_TEXT else preset.name


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
            _set_initial(element, option["value"], option=dict(option))
        elif "selected_option" in state:
            element.pop("initial_option", None)
        return
    if "value" in state:
        value = state.get("value")
        _set_initial(element, value if isinstance(value, str) else "")


def _set_initial(element: Json, value: str, *, option: Json | None = None) -> None:
    """Show `value` at first; "" clears it; a value the element can't take is left out."""
    kind = element.get("type")
    if kind in ("static_select", "external_select"):
        element.pop("initial_option", None)
        chosen = option
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


def _address_fields(guess: AddressGuess) -> tuple[dict[str, str], list[str]]:
    """(initial values, the labels of found values too long for their field)."""
    line2 = guess.line2 or guess.line3
    line3_left_out = False
    if guess.line2 and guess.line3:  # the form has two address lines
        joined = f"{guess.line2}, {guess.line3}"
        line3_left_out = len(joined) > MAX_ADDRESS_LINE
        line2 = guess.line2 if line3_left_out else joined
    fields = (
        (RECIPIENT_NAME, "the name", guess.name, MAX_NAME),
        (RECIPIENT_COMPANY, "the company", guess.company, MAX_COMPANY),
        (RECIPIENT_EMAIL, "the email", guess.email, MAX_EMAIL),
        (RECIPIENT_PHONE, "the phone number", guess.phone, MAX_PHONE),
        (ADDRESS_LINE1, "address line 1", guess.line1, MAX_ADDRESS_LINE),
        (ADDRESS_LINE2, "address line 2", line2, MAX_ADDRESS_LINE),
        (ADDRESS_TOWN, "the town", guess.town, MAX_TOWN),
        (ADDRESS_POSTCODE, "the postcode", guess.postcode, MAX_POSTCODE),
    )
    initial: dict[str, str] = {}
    too_long: list[str] = []
    for block_id, label, value, limit in fields:
        if value and len(value) <= limit:
            initial[block_id] = value
        elif value:
            too_long.append(label)
    if line3_left_out:
        too_long.append("address line 3")
    if guess.country in COUNTRY_NAMES:
        initial[ADDRESS_COUNTRY] = guess.country
    return initial, too_long


def _or(words: Sequence[str], last: str = "or") -> str:
    """ "a, b or c"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def country_label(code: str) -> str:
    """ "United Kingdom (GB)"; an unknown code is shown as itself."""
    name = COUNTRY_NAMES.get(code)
    return f"{name} ({code})" if name else code


def country_option(code: str) -> Json:
    """The select option for a country, exactly as the country selects list it."""
    return _option(country_label(code), code)


def _modal(callback_id: str, title: str, private_metadata: str, blocks: list[Json]) -> View:
    if len(private_metadata) > MAX_PRIVATE_METADATA:
        raise ValueError(
            f"private_metadata is {len(private_metadata)} characters; "
            f"Slack allows {MAX_PRIVATE_METADATA}"
        )
    view: View = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title),
        "submit": _plain(_SUBMIT),
        "close": _plain(_CLOSE),
        "blocks": blocks,
    }
    if private_metadata:  # Slack sends "" back either way
        view["private_metadata"] = private_metadata
    return view


def _plain(text: str) -> Json:
    return {"type": "plain_text", "text": text}


def _escape(text: str) -> str:
    """mrkdwn control characters, so a name can't become a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(text: str) -> Json:
    return {"type": "header", "text": _plain(text)}


def _section(mrkdwn: str) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _input(
    block_id: str, label: str, element: Json, *, optional: bool = False, hint: str | None = None
) -> Json:
    block: Json = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": ACTION},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text(
    initial: str | None, max_length: int, *, placeholder: str | None = None, focus: bool = False
) -> Json:
    element: Json = {"type": "plain_text_input", "max_length": max_length}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    if focus:
        element["focus_on_load"] = True
    return element


def _email(initial: str | None) -> Json:
    element: Json = {"type": "email_text_input", "placeholder": _plain("name@example.com")}
    if initial:
        element["initial_value"] = initial
    return element


def _number(initial: str | None, *, decimal: bool, low: Decimal, high: Decimal) -> Json:
    element: Json = {
        "type": "number_input",
        "is_decimal_allowed": decimal,
        "min_value": _decimal_text(low),
        "max_value": _decimal_text(high),
    }
    if initial:
        element["initial_value"] = initial
    return element


def _side(value: Decimal | None) -> Json:
    return _number(
        _decimal_text(value) if value is not None else None,
        decimal=True,
        low=MIN_SIDE_CM,
        high=MAX_SIDE_CM,
    )


def _decimal_text(value: Decimal) -> str:
    """Plain notation: str(Decimal("1E+1")) would be "1E+1", which Slack won't take."""
    return f"{value:f}"


def _option(text: str, value: str) -> Json:
    return {"text": _plain(text), "value": value}


def _currency_option(code: str) -> Json:
    symbol = CURRENCY_SYMBOLS.get(code)
    return _option(f"{code} ({symbol})" if symbol else code, code)


def _select(options: list[Json], initial: Json | None) -> Json:
    element: Json = {
        "type": "static_select",
        "placeholder": _plain("Choose…"),
        "options": options,
    }
    if initial is not None and initial in options:
        element["initial_option"] = initial
    return element


def _country_select(initial_code: str | None) -> Json:
    """An external select: the options come from `country_options` as the agent types.

    A static list of all 249 countries made each view ~27 kB, and Slack echoes the whole
    view back in every submission: parsing that cost the ack ~10 ms of CPU.
    """
    element: Json = {
        "type": "external_select",
        "placeholder": _plain("Type a country or its code…"),
        "min_query_length": 0,
    }
    if initial_code in COUNTRY_NAMES:
        element["initial_option"] = country_option(initial_code)
    return element


MAX_OPTIONS = 100  # Slack's limit on an options response


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
            shown.append({"label": _plain(label), "options": options[:budget]})
            budget -= len(options[:budget])
    return {"option_groups": shown}


def _initial(name: str) -> str:
    """ "Åland Islands" files under A."""
    return unicodedata.normalize("NFKD", name)[0].upper()
