"""Prefilled `/ship` forms: from a customer's message, a postcode, a past consignment, a preset.

Agent speed: a repeat consignment in three inputs. Each entry checks that the person may
ship before any modal opens (`Refused` otherwise); a look-up by reference or click answers
only about consignments the asker may see. The form is the same `ship_form` as a typed one,
so its submission is validated exactly the same way (`handlers/views.py`).
"""

from __future__ import annotations

import logging
from typing import Any

from blocks.form_fields import Initial, View
from blocks.form_prefill import address_modal, postcode_prefill, ship_again_modal
from blocks.payloads import FormMetadata
from blocks.preset_update import apply_preset
from bot.core import Asker, Shipbot
from bot.desk import access
from bot.desk.access import new_shipper_reference
from bot.desk.flow import new_form
from bot.intake.address import parse_address
from bot.intake.presets import preset_named
from bot.models import ConsignmentRecord
from bot.permissions import Action
from bot.slack import modal

log = logging.getLogger("shipbot.prefill")

# A pasted message longer than this is not an address; the parser only reads its start.
MAX_MESSAGE = 4000


def _metadata(asker: Asker, repeats: int | None = None) -> FormMetadata:
    return FormMetadata(channel=asker.channel, response_url=asker.response_url, repeats=repeats)


def address_form(bot: Shipbot, text: str, asker: Asker) -> View:
    """ "Ship to this address" on a message: the form filled from what the message says,
    with what couldn't be read left empty and said on top."""
    bot.permit(Action.SHIP, asker.user)
    guess = parse_address(text[:MAX_MESSAGE])
    return address_modal(
        _metadata(asker).encode(),
        shipper_reference=new_shipper_reference(bot),
        guess=guess,
        presets=bot.settings.shipbot_parcel_presets,
    )


def postcode_initial(text: str) -> Initial | None:
    """`/ship SW1A 2AA`: the postcode (and its country) if the whole text is one."""
    return postcode_prefill(text.strip())


def postcode_form(bot: Shipbot, initial: Initial, asker: Asker) -> View:
    return new_form(bot, asker.user, _metadata(asker), initial=initial)


def ship_again_command(bot: Shipbot, reference: str, asker: Asker) -> View:
    """`/ship again REF`: by carrier reference, shipper reference or order number."""
    bot.permit(Action.SHIP, asker.user)
    return _ship_again(bot, access.consignment_for(bot, reference, asker), asker)


def ship_again_clicked(bot: Shipbot, cid: int, asker: Asker) -> View:
    """The thread's Ship again button."""
    bot.permit(Action.SHIP, asker.user, cid)
    return _ship_again(bot, access.clicked_consignment(bot, cid, asker), asker)


def _ship_again(bot: Shipbot, c: ConsignmentRecord, asker: Asker) -> View:
    """Recipient, parcels and customs copied; a new shipper reference; the order number is
    left for the agent. The new consignment's thread names this one."""
    asker = Asker(asker.user, asker.channel or c.channel_id, asker.response_url)
    view = ship_again_modal(
        _metadata(asker, repeats=c.id).encode(),
        request=c.request,
        shipper_reference=new_shipper_reference(bot),
        presets=bot.settings.shipbot_parcel_presets,
    )
    bot.store.audit(asker.user, "ship again", "opened", consignment_id=c.id)
    return view


def preset_chosen(bot: Shipbot, view: dict[str, Any], name: str, user: str) -> None:
    """The form's preset select: size and weight filled in by views.update (with the view's
    hash, so a newer view is never overwritten). A preset gone from the settings since the
    form opened changes nothing; like every button, it checks the role of who chose it."""
    bot.permit(Action.SHIP, user)
    preset = preset_named(bot.settings.shipbot_parcel_presets, name)
    view_id = view.get("id")
    if preset is None or not isinstance(view_id, str) or not view.get("blocks"):
        log.info("parcel preset ignored: unknown preset or view")
        return
    modal.update_soon(bot, view_id, view.get("hash"), apply_preset(view, preset))
