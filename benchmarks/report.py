"""Figures, table rows and the machine description that goes with them."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@dataclass(frozen=True)
class Row:
    benchmark: str
    measure: str
    result: str
    target: str = ""
    met: bool | None = None  # None: reported, no target

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("yes" if self.met else "**NO**")


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| Benchmark | Measure | Result | Target | Met |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.benchmark} | {r.measure} | {r.result} | {r.target} | {r.verdict} |" for r in rows
    ]
    return "\n".join(lines)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return [
        f"CPUs: {os.cpu_count()} ({cpu}); {platform.system()} {platform.release()}",
        f"Python {sys.version.split()[0]} ({platform.python_implementation()})",
        "slack-bolt {}, slack-sdk {}, httpx {}, pydantic {}, SQLite {}".format(
            _version("slack-bolt"),
            _version("slack-sdk"),
            _version("httpx"),
            _version("pydantic"),
            sqlite3.sqlite_version,
        ),
    ]


def section(text: str, heading: str) -> str:
    """The part of `text` from the line `heading` up to the next heading of its level."""
    lines = text.splitlines(keepends=True)
    level = heading.split(" ", 1)[0] + " "
    starts = [i for i, line in enumerate(lines) if line.rstrip("\n") == heading]
    if not starts:
        return ""
    end = next(
        (i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith(level)), len(lines)
    )
    return "".join(lines[starts[0] : end])


def splice(text: str, heading: str, new: str) -> str:
    """`text` with its `heading` section replaced by `new` (appended when it has none)."""
    old = section(text, heading)
    block = new.rstrip("\n") + "\n"
    if old:
        return text.replace(old, block if text.endswith(old) else block + "\n", 1)
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
