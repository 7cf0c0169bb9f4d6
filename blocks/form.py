"""The `/ship` modal: page 1 (recipient, parcels, value) and page 2 (customs), as plain dicts.

Pure functions, so handlers can `views_open`/`ack(response_action=...)` them and tests can
check them without Slack. Field ids and limits come from `bot.forms`, the parser of the
submission, so the client-side hints set here always match what the server enforces.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from blocks.countries import COMMON_COUNTRY_CODES, COUNTRIES, COUNTRY_NAMES
from blocks.ids import CallbackId
from bot.forms import (
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
    PARCEL_WEIGHT,
    PARCEL_WIDTH,
    RECIPIENT_COMPANY,
    RECIPIENT_EMAIL,
    RECIPIENT_NAME,
    RECIPIENT_PHONE,
    SHIPMENT_BLOCK_IDS,
    SHIPPER_REFERENCE,
    format_money,
)
from bot.models import ExportReason, ShipmentRequest

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
    "country_label",
    "country_option",
    "country_options",
    "customs_modal",
    "shipment_modal",
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


def shipment_modal(
    private_metadata: str, *, shipper_reference: str, draft: ShipmentRequest | None = None
) -> View:
    """Page 1. `draft` re-opens it filled in ("edit and retry"); its own shipper reference is
    ignored in favour of `shipper_reference`, so the caller decides whether a retry reuses it.
    """
    recipient = draft.recipient if draft else None
    parcel = draft.parcel if draft else None
    blocks = [
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


def with_notice(view: View, text: str) -> View:
    """The same form with a warning on top: why it came back (e.g. the carrier refused it)."""
    notice = _section(f"⚠️ {_escape(text)}")
    return {**view, "blocks": [notice, *view["blocks"]]}


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
