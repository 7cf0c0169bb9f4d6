"""Action ids shared by the renderers in `blocks/` and the listeners in `handlers/`."""

CHOOSE_QUOTE = "choose_quote"
TRY_AGAIN = "try_again"
REQUOTE = "requote"
MANIFEST = "manifest"
MANIFEST_TRY_AGAIN = "manifest_try_again"
EDIT_FORM = "edit_form"
