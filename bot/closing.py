"""`with` for what we open and must shut (the carrier's HTTP client, a benchmark's process).

One `__enter__`/`__exit__` pair for them all, so each class says only how it shuts (`close`).
The sandbox keeps its own pair: it imports nothing of ours, so it can check the client.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closes:
    """Mixin: `with x:` closes x however the block ends."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
