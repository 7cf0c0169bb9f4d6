"""Every benchmark, with tiny numbers, so they cannot rot. Correctness only, never speed."""

from __future__ import annotations

from pathlib import Path

from benchmarks.__main__ import RESULTS, main


def _verdicts(markdown: str) -> dict[str, list[str]]:
    """Benchmark name -> the Met column of each of its rows."""
    found: dict[str, list[str]] = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("Benchmark", "---"):
            found.setdefault(cells[0], []).append(cells[4])
    return found


def test_quick_run_of_every_benchmark(tmp_path: Path) -> None:
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    out = tmp_path / "results.md"

    # Any request not answered 200, any lost flow or a failed claim count raises here.
    assert main(["--quick", "--out", str(out)]) == 0

    verdicts = _verdicts(out.read_text(encoding="utf-8"))
    for kind in ("slash command", "modal submission", "quote click"):
        assert f"Ack: {kind}" in verdicts, verdicts
    assert any(name.startswith("Ack, carrier at") for name in verdicts), verdicts
    assert verdicts["Exactly once"] == ["yes"]
    assert {
        "Full flow",
        "Full flow: click to label",
        "Memory",
        "Store: claim a quote",
        "Slack limits: throughput",
    } <= set(verdicts)
    assert "slack-bolt 1." in out.read_text(encoding="utf-8")
    # The committed results are only ever written by a full run.
    assert (RESULTS.read_bytes() if RESULTS.exists() else None) == before
