"""Deterministic faults: "the next N calls to this path answer 503 / 429 / slowly / never".

Tests arm a fault, make the call and see exactly one failure, instead of hoping a random
failure rate hits the call they care about.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import ApiProblem, Detail

KINDS = ("status", "latency", "timeout")
DEFAULT_SECONDS = {"latency": 1.0, "timeout": 30.0}


@dataclass
class Fault:
    path: re.Pattern[str]
    method: str | None
    kind: str
    status: int
    retry_after: float | None
    seconds: float
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path.search(path))

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path.pattern,
            "method": self.method,
            "kind": self.kind,
            "status": self.status,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "count": self.remaining,
        }


def _invalid(target: str, message: str) -> ApiProblem:
    return ApiProblem(400, "ValidationError", message, [Detail("Invalid", target, message)])


def seconds_field(body: dict[str, Any], name: str) -> float | None:
    """A control body's duration: absent (None) or a number of seconds, 0 or more."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _invalid(name, f"{name} must be a number of seconds, 0 or more.")
    return float(value)


def parse_fault(spec: dict[str, Any]) -> Fault:
    path = spec.get("path")
    if not isinstance(path, str) or not path:
        raise _invalid("path", "path must be a regular expression matched against the path.")
    try:
        pattern = re.compile(path)
    except re.error as exc:
        raise _invalid("path", f"path is not a valid regular expression: {exc}") from exc
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        raise _invalid("method", "method must be an HTTP method or null.")
    kind = spec.get("kind", "status")
    if kind not in KINDS:
        raise _invalid("kind", f"kind must be one of {', '.join(KINDS)}.")
    status = spec.get("status", 503)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise _invalid("status", "status must be an HTTP status code.")
    count = spec.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise _invalid("count", "count must be a whole number, 1 or more.")
    seconds = seconds_field(spec, "seconds")
    return Fault(
        path=pattern,
        method=method.upper() if method else None,
        kind=kind,
        status=status,
        retry_after=seconds_field(spec, "retry_after"),
        seconds=DEFAULT_SECONDS.get(kind, 0.0) if seconds is None else seconds,
        remaining=count,
    )


class FaultBook:
    """Armed faults, first armed first used; each matching call uses up one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]
