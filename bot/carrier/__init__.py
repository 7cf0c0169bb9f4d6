"""The Sorted PRO (Electio API) client: the only code that knows the wire.

`client` (one method per endpoint) over `transport` (HTTP, retries, errors), `factory`
(the one place a client is built from settings), `errors` (one error tree), `wire` (the
wire models), the `mapping_*` modules (pure conversion to and from our models, one per
call family), `tracking`, `events`, `customs`.
"""

from bot.carrier import errors
from bot.carrier.client import CarrierClient, LabelFormat
from bot.carrier.customs import CustomsProfile
from bot.carrier.transport import API_VERSION

__all__ = ["API_VERSION", "CarrierClient", "CustomsProfile", "LabelFormat", "errors"]
