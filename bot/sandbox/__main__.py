"""`python -m bot.sandbox --port 8089`: the sandbox carrier in the foreground."""

from __future__ import annotations

import argparse

from bot.sandbox.server import SandboxConfig, serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.sandbox", description="Run the local Sorted PRO sandbox carrier."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--api-key", default=None, help="refuse other keys (default: any key)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to each call")
    parser.add_argument("--quote-ttl", type=float, default=900.0, help="quote lifetime, seconds")
    parser.add_argument(
        "--tracking-step", type=float, default=600.0, help="seconds per tracking step"
    )
    args = parser.parse_args(argv)
    config = SandboxConfig(
        seed=args.seed,
        api_key=args.api_key,
        quote_ttl_seconds=args.quote_ttl,
        latency_seconds=args.latency,
        tracking_step_seconds=args.tracking_step,
    )
    serve_forever(config, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
