"""The local sandbox carrier: an independent implementation of Sorted PRO's wire.

It imports nothing from `bot.carrier` or `bot.models`, so it checks the client instead
of agreeing with it by construction.
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
