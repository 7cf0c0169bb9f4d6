"""Action ids shared by the renderers in `blocks/` and the listeners in `handlers/`."""

CHOOSE_QUOTE = "choose_quote"
TRY_AGAIN = "try_again"
REQUOTE = "requote"
MANIFEST = "manifest"
MANIFEST_TRY_AGAIN = "manifest_try_again"
EDIT_FORM = "edit_form"
APPROVE = "approve"
DECLINE = "decline"
# A consignment's thread button and `/ship again <ref>`: the form filled in from it.
SHIP_AGAIN = "ship_again"
# The message shortcut "Ship to this address" (callback_id in app_manifest.yml).
SHIP_TO_ADDRESS = "ship_to_address"
