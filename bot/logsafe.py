"""Keeps request and response bodies (recipients' names, phones, addresses) out of the logs.

Bolt and slack_sdk write whole bodies into their messages: a request with a bad signature
at INFO, every Web API request and response, every ack and every Socket Mode envelope at
DEBUG. Filters on a logger only see records made by that very logger, and Bolt makes new
child loggers per request, so the guard sits in the log record factory instead: every
record from those libraries passes through it, whatever the level and whichever handler
(stderr, a file, pytest's capture) receives it. A body-bearing message is cut where the
body starts; an exception's text (pydantic, for one, quotes the input) is replaced by its
type and traceback.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# Loggers that may log what Slack or the carrier sent: the libraries', and our own
# ("shipbot", "shipbot.*": an exception's text there may quote a recipient too; "shipbot.bolt"
# is the logger we hand to Bolt, its framework messages and every per-listener child).
GUARDED_PREFIXES = (
    "slack_bolt",
    "slack_sdk",
    "shipbot",
    "urllib3",
    "httpx",
    "httpcore",
    "websocket",
)
REDACTED = "[body not logged]"
# Where the body starts in a message: "body: …", "json_body: …", "payload: …", "message: …",
# "(request body …)", "Request body: …", and Bolt's "a response for the request ({…})".
_BODY_MARKER = re.compile(
    r"(?:\b(?:json_body|body_params|query_params|body|payload|message|submission|files|"
    r"headers)\s*[:=]|\brequest body\b|for the request \()",
    re.IGNORECASE,
)
# Anything longer that still got through is cut: no body fits in this.
MAX_MESSAGE = 500

_installed = False


def _drop(record: logging.LogRecord) -> bool:
    return False


def guarded(name: str) -> bool:
    return any(name == p or name.startswith((p + ".", p + ":")) for p in GUARDED_PREFIXES)


def redact_message(message: str) -> str:
    """The message up to where a body starts, and never longer than MAX_MESSAGE."""
    match = _BODY_MARKER.search(message)
    if match is not None:
        message = f"{message[: match.start()].rstrip(' ,(:')} {REDACTED}"
    if len(message) > MAX_MESSAGE:
        message = f"{message[:MAX_MESSAGE]}… {REDACTED}"
    return message


def exception_summary(exc_info: Any) -> str | None:
    """A traceback without the exception's message (which may quote what was sent)."""
    if not (isinstance(exc_info, tuple) and len(exc_info) == 3 and exc_info[0] is not None):
        return None
    kind, _, tb = exc_info
    frames = "".join(traceback.format_tb(tb))
    return f"Traceback (most recent call last):\n{frames}{kind.__name__}: (message not logged)"


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrites one record in place (message and exception text) if its logger is guarded."""
    if not guarded(record.name):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: never let it carry the args through
        message = str(record.msg)
    record.msg = redact_message(message)
    record.args = None
    summary = exception_summary(record.exc_info)
    if summary is not None:
        record.exc_text = summary
    return record


def install() -> None:
    """Idempotent: wraps the current record factory once per process."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    # Bolt's "Invalid request signature detected (… body: …)" is said by bot/slack/http.py in one
    # short line instead. A filter, not a level: Bolt resets this logger's level from ours
    # when it builds an App.
    logging.getLogger("slack_bolt.RequestVerification").addFilter(_drop)
    _installed = True
