"""Every id Slack sends back to us, as enums: the renderers in `blocks/` set them and the
listeners in `handlers/` register on them, so a typo is a NameError, not a dead button."""

from enum import StrEnum


class ActionId(StrEnum):
    CHOOSE_QUOTE = "choose_quote"
    TRY_AGAIN = "try_again"
    REQUOTE = "requote"
    MANIFEST = "manifest"
    MANIFEST_TRY_AGAIN = "manifest_try_again"
    EDIT_FORM = "edit_form"
    APPROVE = "approve"
    DECLINE = "decline"
    STATUS = "op_status"
    REPRINT = "op_reprint"
    CANCEL = "op_cancel"
    LIST_PAGE = "op_list_page"
    # A consignment's thread button and `/ship again <ref>`: the form filled in from it.
    SHIP_AGAIN = "ship_again"
    # The form's parcel preset select (dispatches at once; never blocks a submission).
    PARCEL_PRESET = "parcel_preset"
    # A consignment's thread button and `/ship return <ref>`: the return form filled in.
    RETURN_LABEL = "return_label"
    # The delivery desk: a consignment found at Sorted PRO (value: its EC- reference).
    FOUND_QUOTES = "found_quotes"
    FOUND_RESHIP = "found_reship"
    FOUND_REPLACE = "found_replace"
    FOUND_REFRESH = "found_refresh"
    FOUND_ADDRESS = "found_address"
    # The customer sends it back: taken over, then the return form filled in from it.
    FOUND_RETURN = "found_return"
    # One of ours (or taken over): ship it with another service (value: the id).
    RESHIP = "reship"
    # After a released booking's new allocate failed: the same quote again.
    RETRY_QUOTE = "retry_quote"
    # A delivery exception in its thread: someone dealt with it (App Home stops listing it).
    DELIVERY_HANDLED = "delivery_handled"
    # The exceptions channel and the late list: this Sorted PRO consignment, to the desk.
    TAKE_OVER = "take_over"


class CommandId(StrEnum):
    """The `/ship` subcommands: the names of the rows of bot/desk/commands.py's table."""

    NEW = "new"
    AGAIN = "again"
    RETURN = "return"
    STATUS = "status"
    FIND = "find"
    LIST = "list"
    LABEL = "label"
    REPRINT = "reprint"
    CANCEL = "cancel"
    AUDIT = "audit"
    MANIFEST = "manifest"
    REPORT = "report"
    HELP = "help"


class CallbackId(StrEnum):
    SHIP_FORM = "ship_form"
    SHIP_CUSTOMS = "ship_customs"
    # The return form (page 1 of a return; abroad, page 2 is SHIP_CUSTOMS).
    SHIP_RETURN = "ship_return"
    # The message shortcut "Ship to this address" (callback_id in app_manifest.yml).
    SHIP_TO_ADDRESS = "ship_to_address"
    # The delivery desk's "Fix the address" modal.
    FIX_ADDRESS = "fix_address"


CHOOSE_QUOTE = ActionId.CHOOSE_QUOTE
TRY_AGAIN = ActionId.TRY_AGAIN
REQUOTE = ActionId.REQUOTE
MANIFEST = ActionId.MANIFEST
MANIFEST_TRY_AGAIN = ActionId.MANIFEST_TRY_AGAIN
EDIT_FORM = ActionId.EDIT_FORM
APPROVE = ActionId.APPROVE
DECLINE = ActionId.DECLINE
SHIP_AGAIN = ActionId.SHIP_AGAIN
SHIP_TO_ADDRESS = CallbackId.SHIP_TO_ADDRESS
