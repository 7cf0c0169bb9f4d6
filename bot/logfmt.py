"""What a log line knows besides its message, and the JSON form of a line.

The job runner and the paced sender set the context (the job, the consignment it works on,
the Slack method in flight) in contextvars, so every line logged meanwhile, ours or a
library's, carries it without each call site passing it. `SHIPBOT_LOG_FORMAT=json` writes
one JSON object a line. Records reach the formatter already scrubbed by `bot/logsafe.py`
(the record factory), and only named fields are written: never a record's other extras.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from bot import logsafe

JOB: ContextVar[str | None] = ContextVar("shipbot_job", default=None)
CONSIGNMENT: ContextVar[int | None] = ContextVar("shipbot_consignment", default=None)
SLACK_METHOD: ContextVar[str | None] = ContextVar("shipbot_slack_method", default=None)


@contextmanager
def job_context(job: str, consignment: object = None) -> Iterator[None]:
    """While a job runs: its id and kind, and the consignment its payload names (`cid`)."""
    cid = (
        consignment if isinstance(consignment, int) and not isinstance(consignment, bool) else None
    )
    tokens = (JOB.set(job), CONSIGNMENT.set(cid))
    try:
        yield
    finally:
        JOB.reset(tokens[0])
        CONSIGNMENT.reset(tokens[1])


@contextmanager
def slack_method(method: str) -> Iterator[None]:
    """While one Slack Web API call is in flight."""
    token = SLACK_METHOD.set(method)
    try:
        yield
    finally:
        SLACK_METHOD.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the context where known.

    `consignment` comes from the record (`extra={"consignment": id}`) or the job's context.
    An exception is written as its type and traceback only, whichever logger made it (its
    message may quote what was sent).
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        consignment = getattr(record, "consignment", None)
        if not isinstance(consignment, int):
            consignment = CONSIGNMENT.get()
        context = {
            "consignment": consignment,
            "job": JOB.get(),
            "slack_method": SLACK_METHOD.get(),
            "thread": record.threadName,
        }
        line.update({name: value for name, value in context.items() if value is not None})
        summary = logsafe.exception_summary(record.exc_info)
        if summary:
            line["exception"] = summary
        return json.dumps(line, ensure_ascii=False, default=str)
