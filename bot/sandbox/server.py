"""Running the sandbox: in-process on a free port (bot, tests, benchmarks) or in the foreground.

The helpers on `RunningSandbox` call the same code as the `/__sandbox/` control endpoints,
directly rather than over HTTP, so a test can steer the sandbox without a second client.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

import uvicorn

from bot.sandbox.app import Sandbox
from bot.sandbox.catalogue import SANDBOX_SHIPPING_LOCATION
from bot.sandbox.faults import parse_fault
from bot.sandbox.seed import seed_orders
from bot.sandbox.state import SandboxState

__all__ = [
    "SANDBOX_SHIPPING_LOCATION",
    "RunningSandbox",
    "SandboxConfig",
    "build_sandbox",
    "main",
    "serve_forever",
    "start_sandbox",
]

START_TIMEOUT_SECONDS = 10.0


@dataclass
class SandboxConfig:
    seed: int = 0
    api_key: str | None = None
    quote_ttl_seconds: float = 900.0
    latency_seconds: float = 0.0
    tracking_step_seconds: float = 600.0
    # The share of manifested parcels whose journey goes wrong (delayed, card left, lost...).
    exception_share: float = 0.0
    # Consignments "made by the webshop" (bot/sandbox/seed.py), made again on each reset.
    seed_orders: int = 0


def build_sandbox(config: SandboxConfig) -> Sandbox:
    def new_state() -> SandboxState:
        state = SandboxState(
            seed=config.seed,
            quote_ttl_seconds=config.quote_ttl_seconds,
            tracking_step_seconds=config.tracking_step_seconds,
            exception_share=config.exception_share,
        )
        seed_orders(state, config.seed_orders)
        return state

    return Sandbox(new_state, api_key=config.api_key, latency_seconds=config.latency_seconds)


class _PromptServer(uvicorn.Server):
    """Uvicorn that stops when told rather than on its next tick.

    Uvicorn looks at `should_exit` every 0.1 s and, shutting down, sleeps 0.1 s more for its
    connections to notice, even when it has none: 0.15 s on every stop, which the suite (a
    sandbox a test) spends hundreds of times. `exit_now` wakes the loop at once; a shutdown
    with nothing open or running closes the listener and is done.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _woken: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):  # uvicorn's own loop, woken by exit_now
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), 0.1)

    def exit_now(self) -> None:
        """From any thread: leave the serving loop now."""
        self.should_exit = True
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(woken.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets)  # requests in flight: uvicorn's graceful shutdown
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()


class RunningSandbox:
    """A sandbox serving on `url` from a daemon thread; `stop()` (or `with`) ends it."""

    def __init__(
        self,
        sandbox: Sandbox,
        server: _PromptServer,
        thread: threading.Thread,
        host: str,
        port: int,
    ) -> None:
        self.sandbox = sandbox
        self._server = server
        self._thread = thread
        self.port = port
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.sandbox.gateway.wake_sleepers()  # withheld replies and latency end now
        self._server.exit_now()
        self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def arm_fault(
        self,
        path: str,
        kind: str = "status",
        *,
        method: str | None = None,
        status: int = 503,
        retry_after: float | None = None,
        seconds: float | None = None,
        count: int = 1,
    ) -> None:
        """The next `count` calls matching `path` (a regex) fail as `kind` says."""
        spec = {
            "path": path,
            "method": method,
            "kind": kind,
            "status": status,
            "retry_after": retry_after,
            "seconds": seconds,
            "count": count,
        }
        self.sandbox.faults.arm(parse_fault(spec))

    def clear_faults(self) -> None:
        self.sandbox.faults.clear()

    def requests(self) -> list[dict[str, Any]]:
        return self.sandbox.requests.entries()

    def count(self, method: str, path_regex: str) -> int:
        pattern = re.compile(path_regex)
        return sum(
            1
            for entry in self.requests()
            if entry["method"] == method.upper() and pattern.search(entry["path"])
        )

    def set_journey(self, reference: str, *states: str, handed_in: bool = False) -> None:
        """What happens to a consignment after its manifest, one state per tracking step
        (`handed_in`: a return's customer hands it in now)."""
        self.sandbox.state.set_journey(reference, states, handed_in=handed_in)

    def set_timing(self, **timing: float) -> None:
        self.sandbox.state.set_timing(**timing)

    def now(self) -> datetime:
        return self.sandbox.state.now()

    def advance_clock(self, seconds: float) -> None:
        self.sandbox.state.advance_clock(seconds)

    def reset(self) -> None:
        """A fresh sandbox on the same port: lets tests share one server (POST /__sandbox/reset)."""
        self.sandbox.reset()


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it Nagle adds ~40 ms to every reply.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def start_sandbox(
    config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> RunningSandbox:
    """Serves a new sandbox from a daemon thread; returns once it accepts connections."""
    sandbox = build_sandbox(config or SandboxConfig())
    sock = _listening_socket(host, port)
    server = _PromptServer(
        uvicorn.Config(
            sandbox,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
        )
    )
    bound_port = sock.getsockname()[1]
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox:{bound_port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the sandbox did not start on {host}:{bound_port}")
        time.sleep(0.01)
    return RunningSandbox(sandbox, server, thread, host, bound_port)


def serve_forever(config: SandboxConfig, *, host: str, port: int) -> None:
    """Serves in the foreground until Ctrl-C."""
    uvicorn.Server(
        uvicorn.Config(build_sandbox(config), host=host, port=port, log_level="info")
    ).run()


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m bot.sandbox") -> int:
    """The sandbox in the foreground from a command line: `shipbot sandbox` hands its
    arguments here, as `python -m bot.sandbox` does, so both take the same options."""
    args = _parser(prog).parse_args(argv)
    config = SandboxConfig(
        seed=args.seed,
        api_key=args.api_key,
        latency_seconds=args.latency,
        quote_ttl_seconds=args.quote_ttl,
        tracking_step_seconds=args.progress,
        exception_share=min(max(args.exceptions, 0.0), 1.0),
        seed_orders=args.seed_orders,
    )
    print(
        f"{prog}: Sorted PRO wire on http://{args.host}:{args.port} "
        f"(seed {args.seed}, key {'required' if args.api_key else 'any'}, "
        f"{args.seed_orders} webshop orders)",
        flush=True,
    )
    serve_forever(config, host=args.host, port=args.port)
    return 0


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Run the local sandbox carrier: Sorted PRO's API, on this machine."
    )
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089)")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--seed", type=int, default=0, help="seed for references (default 0)")
    parser.add_argument(
        "--seed-orders",
        type=int,
        default=0,
        metavar="N",
        help="start with N consignments made by the webshop, in the states the desk rescues",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every API call (default 0)"
    )
    parser.add_argument(
        "--quote-ttl", type=float, default=900.0, help="seconds a quote lives (default 900)"
    )
    parser.add_argument(
        "--progress",
        "--tracking-step",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="seconds per step of a parcel's journey after the manifest (default 600)",
    )
    parser.add_argument(
        "--exceptions",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="share of manifested parcels whose journey goes wrong, 0 to 1 (default 0)",
    )
    return parser
