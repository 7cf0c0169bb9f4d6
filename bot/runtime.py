"""Start-up shared by `serve` and `demo`: the carrier (real or sandbox), the store, logging."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import urlparse

from bot import logsafe
from bot.carrier.client import CarrierClient
from bot.carrier.factory import carrier_client
from bot.logfmt import JsonFormatter
from bot.sandbox.server import RunningSandbox, SandboxConfig, start_sandbox
from bot.settings import CarrierMode, Settings


@dataclass
class CarrierConnection:
    client: CarrierClient
    sandbox: RunningSandbox | None
    description: str
    url: str = ""

    def close(self) -> None:
        self.client.close()
        if self.sandbox is not None:
            self.sandbox.stop()


def connect_carrier(
    settings: Settings, *, sandbox_config: SandboxConfig | None = None
) -> CarrierConnection:
    """Sorted PRO with a key; a sandbox at ELECTIO_API_URL; else our own, started here."""
    sandbox = None
    mode = settings.carrier_mode
    if mode is CarrierMode.LOCAL_SANDBOX:
        sandbox = start_sandbox(sandbox_config or SandboxConfig())
        url = sandbox.url
        description = (
            f"local sandbox carrier at {url} (started here: SHIPBOT_CARRIER=sandbox, or no "
            "ELECTIO_API_KEY or ELECTIO_API_URL is set)"
        )
    elif mode is CarrierMode.REMOTE_SANDBOX:
        url = settings.carrier_url
        description = f"sandbox carrier at {url} (ELECTIO_API_URL, no key: placeholder key)"
    else:
        url = settings.carrier_url
        description = f"Sorted PRO at {urlparse(url).netloc} (ELECTIO_API_KEY set)"
    client = carrier_client(settings, url=url)
    return CarrierConnection(client=client, sandbox=sandbox, description=description, url=url)


def log_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing one line per record: plain text, or a JSON object (`json`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    return handler


def setup_logging(level: str, log_format: str = "text") -> None:
    """One line per event on stderr; at any level, no request or response body (logsafe:
    the record factory scrubs each record before any handler or formatter sees it)."""
    logsafe.install()
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO), handlers=[log_handler(log_format)]
    )
