"""The `/ship` form's first page: recipient, parcels, contents and value (and the parcel
preset select on top).

Pure functions to Block Kit JSON, so handlers can `views_open`/`ack(response_action=...)` them
and tests can check them without Slack. Field ids and limits come from `bot.intake.forms`, the
parser of the submission, so the client-side hints set here always match what the server
enforces.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from blocks.form_fields import (
    Initial,
    Json,
    View,
    country_select,
    currency_option,
    decimal_text,
    email_input,
    field,
    header,
    modal,
    number_input,
    option,
    plain,
    set_initial,
    side_input,
    static_select,
    text_input,
)
from blocks.ids import CallbackId
from bot.intake.forms import (
    ADDRESS_COUNTRY,
    ADDRESS_LINE1,
    ADDRESS_LINE2,
    ADDRESS_POSTCODE,
    ADDRESS_TOWN,
    CONTENTS,
    CURRENCIES,
    DECLARED_CURRENCY,
    DECLARED_VALUE,
    DEFAULT_COUNTRY,
    DEFAULT_CURRENCY,
    MAX_ADDRESS_LINE,
    MAX_COMPANY,
    MAX_CONTENTS,
    MAX_NAME,
    MAX_ORDER_NUMBER,
    MAX_PARCELS,
    MAX_PHONE,
    MAX_POSTCODE,
    MAX_SHIPPER_REFERENCE,
    MAX_TOWN,
    MAX_VALUE,
    MAX_WEIGHT_KG,
    MIN_PARCELS,
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
    SHIPPER_REFERENCE,
)
from bot.intake.presets import ParcelPreset
from bot.models import ShipmentRequest

SHIP_FORM = CallbackId.SHIP_FORM

_TITLE = "Ship a parcel"
_PRESET_PROMPT = "📦 *Parcel preset*: fills in the size and weight below."
_MAX_OPTION_TEXT = 75
# The recipient's plain text fields after the phone: block id, label, the Recipient field it
# shows, its longest value, optional, hint.
_ADDRESS_FIELDS: tuple[tuple[str, str, str, int, bool, str | None], ...] = (
    (RECIPIENT_COMPANY, "Company", "company", MAX_COMPANY, True, None),
    (ADDRESS_LINE1, "Address line 1", "line1", MAX_ADDRESS_LINE, False, None),
    (ADDRESS_LINE2, "Address line 2", "line2", MAX_ADDRESS_LINE, True, None),
    (ADDRESS_TOWN, "Town or city", "town", MAX_TOWN, False, None),
    (
        ADDRESS_POSTCODE,
        "Postcode",
        "postcode",
        MAX_POSTCODE,
        True,
        "Leave it empty only where addresses have no postcode, like Hong Kong.",
    ),
)


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
        header("Recipient"),
        field(
            RECIPIENT_NAME,
            "Name",
            text_input(recipient.name if recipient else None, MAX_NAME, focus=True),
        ),
        field(
            RECIPIENT_EMAIL,
            "Email",
            email_input(recipient.email if recipient else None),
            optional=True,
            hint="For the carrier's delivery updates.",
        ),
        field(
            RECIPIENT_PHONE,
            "Phone",
            text_input(
                recipient.phone if recipient else None, MAX_PHONE, placeholder="+44 20 7946 0000"
            ),
            hint="The driver calls or texts it if there's a problem.",
        ),
        *(
            field(
                block_id,
                label,
                text_input(getattr(recipient, name) if recipient else None, longest),
                optional=optional,
                hint=hint,
            )
            for block_id, label, name, longest, optional, hint in _ADDRESS_FIELDS
        ),
        field(
            ADDRESS_COUNTRY,
            "Country",
            country_select(recipient.country if recipient else DEFAULT_COUNTRY),
        ),
        header("Parcels"),
        field(
            PARCEL_COUNT,
            "Number of parcels",
            number_input(
                str(draft.parcel_count) if draft else "1",
                decimal=False,
                low=Decimal(MIN_PARCELS),
                high=Decimal(MAX_PARCELS),
            ),
            hint="All the same weight and size. Different parcels need separate shipments.",
        ),
        field(
            PARCEL_WEIGHT,
            "Weight of one parcel (kg)",
            number_input(
                decimal_text(parcel.weight_kg) if parcel else None,
                decimal=True,
                low=MIN_WEIGHT_KG,
                high=MAX_WEIGHT_KG,
            ),
        ),
        *(
            field(block_id, label, side_input(value))
            for block_id, label, value in (
                (PARCEL_LENGTH, "Length (cm)", parcel.length_cm if parcel else None),
                (PARCEL_WIDTH, "Width (cm)", parcel.width_cm if parcel else None),
                (PARCEL_HEIGHT, "Height (cm)", parcel.height_cm if parcel else None),
            )
        ),
        header("Contents"),
        field(
            CONTENTS,
            "What's inside",
            text_input(
                draft.contents if draft else None, MAX_CONTENTS, placeholder="Running shoes"
            ),
        ),
        field(
            DECLARED_VALUE,
            "Value of the contents",
            number_input(
                decimal_text(draft.value.amount) if draft else None,
                decimal=True,
                low=MIN_VALUE,
                high=MAX_VALUE,
            ),
            hint="All parcels together. Used for cover and, abroad, for customs.",
        ),
        field(
            DECLARED_CURRENCY,
            "Currency",
            static_select(
                [currency_option(code) for code in CURRENCIES],
                currency_option(draft.value.currency if draft else DEFAULT_CURRENCY),
            ),
        ),
        field(
            ORDER_NUMBER,
            "Order number",
            text_input(draft.order_number if draft else None, MAX_ORDER_NUMBER),
            optional=True,
            hint="Lets anyone find this shipment by order later.",
        ),
        field(
            SHIPPER_REFERENCE,
            "Shipper reference",
            text_input(shipper_reference, MAX_SHIPPER_REFERENCE),
            hint="Must be unique. A new one is filled in; change it only if you need to.",
        ),
    ]
    for block in blocks:
        if block["type"] == "input" and initial and block["block_id"] in initial:
            set_initial(block["element"], initial[block["block_id"]])
    return modal(SHIP_FORM, _TITLE, private_metadata, blocks)


def _preset_block(presets: Sequence[ParcelPreset]) -> Json:
    """A section with a select, not an input: it dispatches block_actions the moment it
    changes, can never block a submission, and the parser never sees it.
    """
    options = [option(_preset_label(preset), preset.name) for preset in presets]
    select: Json = {
        "type": "static_select",
        "action_id": PARCEL_PRESET,
        "placeholder": plain("Choose a box…"),
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
