"""Events API: the App Home tab, published by a worker so the event is acked at once."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.core import Shipbot
from bot.desk import lookup


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(event: dict[str, Any], shipbot: Shipbot) -> None:
    # Also sent for the Messages tab, which shipbot doesn't use.
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    lookup.home_opened(shipbot, str(event["user"]))
