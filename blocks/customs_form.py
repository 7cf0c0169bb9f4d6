"""The `/ship` form's customs page (CN22/CN23), for parcels leaving the UK.

Pure functions to Block Kit JSON; filled from page 1's shipment (or a past consignment's
customs), with limits from `bot.intake.forms`, the parser of the submission.
"""

from __future__ import annotations

from blocks import escape
from blocks.form_fields import (
    View,
    country_label,
    country_select,
    decimal_text,
    field,
    modal,
    number_input,
    option,
    section,
    static_select,
    text_input,
)
from blocks.ids import CallbackId
from bot.intake.forms import (
    CUSTOMS_CONTENTS,
    CUSTOMS_HS_CODE,
    CUSTOMS_ITEM_VALUE,
    CUSTOMS_ORIGIN,
    CUSTOMS_REASON,
    DEFAULT_ORIGIN_COUNTRY,
    MAX_CONTENTS,
    MIN_VALUE,
)
from bot.models import Customs, ExportReason, Money, ShipmentRequest
from bot.money import format_money

SHIP_CUSTOMS = CallbackId.SHIP_CUSTOMS

_CUSTOMS_TITLE = "Customs details"
_HS_CODE_CHARS = 16  # 10 digits plus the dots and spaces people type, like "6404.11.00.00"


def customs_modal(private_metadata: str, *, shipment: ShipmentRequest) -> View:
    """Page 2, for parcels leaving the UK; filled from page 1 (or from `shipment.customs`)."""
    customs = shipment.customs
    declared = shipment.value
    country = country_label(shipment.recipient.country)
    parcels = f"{shipment.parcel_count} parcel{'s' if shipment.parcel_count != 1 else ''}"
    reasons = [option(reason.value, reason.value) for reason in ExportReason]
    blocks = [
        section(
            f"🧾 Customs declaration (CN22/CN23) for {parcels} to *{escape(country)}*, "
            f"declared value {format_money(declared.amount, declared.currency)}."
        ),
        field(
            CUSTOMS_CONTENTS,
            "Description of the goods",
            text_input(customs.contents if customs else shipment.contents, MAX_CONTENTS),
            hint='Be specific, like "Men\'s leather running shoes": customs reject vague ones.',
        ),
        field(
            CUSTOMS_HS_CODE,
            "HS tariff code",
            text_input(customs.hs_code if customs else None, _HS_CODE_CHARS, placeholder="6404.11"),
            hint="6 to 10 digits. Find it at trade-tariff.service.gov.uk.",
        ),
        field(
            CUSTOMS_ORIGIN,
            "Country of origin",
            country_select(customs.origin_country if customs else DEFAULT_ORIGIN_COUNTRY),
            hint="Where the goods were made, not where they ship from.",
        ),
        field(
            CUSTOMS_ITEM_VALUE,
            f"Value of the goods ({declared.currency})",
            number_input(
                decimal_text(customs.item_value.amount if customs else declared.amount),
                decimal=True,
                low=MIN_VALUE,
                high=declared.amount,
            ),
            hint=f"Up to the declared value, {format_money(declared.amount, declared.currency)}.",
        ),
        field(
            CUSTOMS_REASON,
            "Reason for export",
            static_select(
                reasons,
                option(customs.reason.value, customs.reason.value) if customs else None,
            ),
        ),
    ]
    return modal(SHIP_CUSTOMS, _CUSTOMS_TITLE, private_metadata, blocks)


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
