"""The local sandbox carrier: an independent implementation of Sorted PRO's wire.

It imports nothing from `bot.carrier` or `bot.models`, so it checks the client instead
of agreeing with it by construction. One line a module:

- `app`: The HTTP API: Sorted PRO's paths, methods, bodies and status codes.
- `gateway`: What sits in front of the API (keys, 401s), as Azure API Management does.
- `validation`: Reading request bodies: every problem a `Details[]` entry naming its field.
- `state`: Consignments, quotes and their lifecycle, behind one lock.
- `catalogue`: What it sells: carriers, services, zones, prices, delivery windows.
- `render`: Its state in Sorted PRO's JSON shapes.
- `documents`: Real labels (PDF, ZPL) and customs documents (CN22, CN23, invoice).
- `tracking`: The carrier's scans, timed by the sandbox clock, on both routes.
- `events`: The state events query and Get Late Consignments.
- `search`: Search Consignments' filters from the query string.
- `seed`: Consignments "made by the webshop" (`--seed-orders`).
- `errors`: Its refusals: Sorted's error shape with stable `Code` strings.
- `faults`: Deterministic faults: the next N calls to a path answer 503, 429, slowly or never.
- `requestlog`: Every request it received, so tests can count calls.
- `server`: Running it in-process on a free port, or in the foreground (its command line).
- `__main__`: `python -m bot.sandbox --port 8089`.
"""

from bot.sandbox.errors import ERROR_CODES
from bot.sandbox.server import (
    SANDBOX_SHIPPING_LOCATION,
    RunningSandbox,
    SandboxConfig,
    serve_forever,
    start_sandbox,
)

__all__ = [
    "ERROR_CODES",
    "SANDBOX_SHIPPING_LOCATION",
    "RunningSandbox",
    "SandboxConfig",
    "serve_forever",
    "start_sandbox",
]
