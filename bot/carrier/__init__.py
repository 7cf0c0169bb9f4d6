"""The Sorted PRO (Electio API) client: the only code that knows the wire.

`client` (the httpx client), `errors` (one error tree), `wire` (the wire models),
`mapping` (pure conversion to and from our models), `tracking`, `customs`.
"""

from bot.carrier import errors
from bot.carrier.client import API_VERSION, CarrierClient, LabelFormat
from bot.carrier.customs import CustomsProfile

__all__ = ["API_VERSION", "CarrierClient", "CustomsProfile", "LabelFormat", "errors"]
