"""The Sorted PRO (Electio API) client: the only code that knows the wire."""

from bot.carrier.client import API_VERSION, CarrierClient, LabelFormat
from bot.carrier.customs import CustomsProfile
from bot.carrier.errors import (
    CarrierError,
    CarrierUnavailable,
    ErrorDetail,
    InvalidRequest,
    NotFound,
    OutcomeUnknown,
    QuoteExpired,
    RateLimited,
    Unauthorized,
    UnexpectedResponse,
)

__all__ = [
    "API_VERSION",
    "CarrierClient",
    "CarrierError",
    "CarrierUnavailable",
    "CustomsProfile",
    "ErrorDetail",
    "InvalidRequest",
    "LabelFormat",
    "NotFound",
    "OutcomeUnknown",
    "QuoteExpired",
    "RateLimited",
    "Unauthorized",
    "UnexpectedResponse",
]
