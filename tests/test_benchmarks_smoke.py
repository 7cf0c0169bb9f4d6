"""Every benchmark, with tiny numbers, so they cannot rot. Correctness only, never speed."""

from __future__ import annotations

from pathlib import Path

from benchmarks import servers
from benchmarks.__main__ import RESULTS, main
from benchmarks.report import section, splice


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


def test_the_before_server_comes_from_history_and_answers() -> None:
    """`python -m benchmarks.servers`' swap: the old stdlib server really serves both apps."""
    with servers.before_server() as folder:
        assert not folder.is_relative_to(RESULTS.parent.parent)  # nothing old in the project
        with servers.apps_path(folder):
            assert servers.server_header().startswith("WSGIServer/")


def test_a_full_run_keeps_the_servers_section() -> None:
    old = f"# table\n\nold rows\n\n{servers.HEADING}\n\nbefore/after\n"
    kept = section(old, servers.HEADING)
    assert kept == f"{servers.HEADING}\n\nbefore/after\n"
    assert splice("# table\n\nnew rows\n", servers.HEADING, kept) == (
        f"# table\n\nnew rows\n\n{servers.HEADING}\n\nbefore/after\n"
    )
    assert splice(old, servers.HEADING, f"{servers.HEADING}\n\nagain\n").endswith("\nagain\n")
