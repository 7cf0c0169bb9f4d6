"""Every API request the sandbox received, so tests can count calls (retries, idempotency)."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any

# Enough for any benchmark run; older entries drop off rather than growing without bound.
MAX_ENTRIES = 100_000


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)

    def start(self, method: str, path: str, query: str) -> dict[str, Any]:
        """Records the request now (status null while it runs); the caller fills it in."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "time": datetime.now(UTC).isoformat(),
            "status": None,
            "fault": None,
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def update(self, entry: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            entry.update(changes)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._entries)
            self._entries.clear()
            return cleared
