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


class CallbackId(StrEnum):
    SHIP_FORM = "ship_form"
    SHIP_CUSTOMS = "ship_customs"


CHOOSE_QUOTE = ActionId.CHOOSE_QUOTE
TRY_AGAIN = ActionId.TRY_AGAIN
REQUOTE = ActionId.REQUOTE
MANIFEST = ActionId.MANIFEST
MANIFEST_TRY_AGAIN = ActionId.MANIFEST_TRY_AGAIN
EDIT_FORM = ActionId.EDIT_FORM
APPROVE = ActionId.APPROVE
DECLINE = ActionId.DECLINE
