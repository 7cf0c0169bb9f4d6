"""`python -m bot.sandbox --port 8089`: the sandbox carrier in the foreground."""

from __future__ import annotations

import sys

from bot.sandbox.server import main

if __name__ == "__main__":
    sys.exit(main())
