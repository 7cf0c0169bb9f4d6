"""The Sorted PRO (Electio API) client: the only code that knows the wire. One line a module:

- `client`: `CarrierClient`: one method per endpoint, each its route and its mapping.
- `transport`: `CarrierHttp`, one logical call: httpx, retries, timeouts, replies as errors.
- `factory`: `carrier_client(settings, **overrides)`: the one place a client is built.
- `wire`: Sorted PRO's JSON, field for field.
- `mapping_create`: Our shipment as the Create Consignment request, customs included.
- `mapping_quotes`: Quotes and allocation replies as our `QuoteSet` and `Allocation`.
- `mapping_documents`: Labels, customs documents and manifests as our `Document`s.
- `mapping_lookup`: Get and Search Consignments as our status, found rows and detail.
- `mapping_update`: Update Consignment (a full replace) with the destination swapped.
- `errors`: Typed carrier errors: what went wrong, and whether it may have taken effect.
- `fields`: Which form field a carrier refusal is about, for *Edit the form*.
- `customs`: What PRO needs for CN22/CN23 forms and invoices beyond the form.
- `tracking`: Tracking on both documented routes, mapped to our events.
- `events`: State events and late consignments: wire shapes and their mapping.
"""

from bot.carrier import errors
from bot.carrier.client import CarrierClient, LabelFormat
from bot.carrier.customs import CustomsProfile
from bot.carrier.transport import API_VERSION

__all__ = ["API_VERSION", "CarrierClient", "CustomsProfile", "LabelFormat", "errors"]
