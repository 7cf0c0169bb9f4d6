"""The one place a carrier client is built from settings.

Production (`bot/runtime.py`), the demo and the test harness all build it here, so a
setting (timeouts, the manifest method, the customs profile) reaches every client the same
way; tests pass overrides (a tiny backoff, a wrong key) rather than building their own.
Not imported by `bot/carrier/__init__` because settings import the carrier's customs.
"""

from __future__ import annotations

from typing import Unpack

from bot.carrier.client import CarrierClient, ClientOptions
from bot.settings import Settings


def carrier_client(
    settings: Settings,
    *,
    url: str | None = None,
    api_key: str | None = None,
    **overrides: Unpack[ClientOptions],
) -> CarrierClient:
    """A client for `settings`' carrier; `url` and `api_key` default to the settings' own."""
    options: ClientOptions = {
        "connect_timeout": settings.electio_connect_timeout,
        "read_timeout": settings.electio_read_timeout,
        "manifest_method": settings.electio_manifest_method,
        "customs": settings.customs_profile,
    }
    options.update(overrides)
    key = settings.carrier_api_key if api_key is None else api_key
    return CarrierClient(url or settings.carrier_url, key, **options)
