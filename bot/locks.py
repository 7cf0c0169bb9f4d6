"""One lock per consignment, shared by everything in this process that changes one.

The flow (services) and the agent operations (cancel, relabel) run on the same worker pool;
sharing the registry means a cancel never interleaves with an allocate of the same parcel.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class ConsignmentLocks:
    def __init__(self) -> None:
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, consignment_id: int) -> Iterator[None]:
        with self._guard:
            lock = self._locks[consignment_id]
        with lock:
            yield
