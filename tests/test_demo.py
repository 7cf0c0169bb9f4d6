"""`shipbot demo` runs the whole flow and leaves the PDFs on disk (the README's first command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo import run_demo


def test_demo_runs_both_consignments_and_saves_pdfs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shipbot-demo"
    assert run_demo(out_dir=str(out)) == 0
    printed = capsys.readouterr().out
    assert "Queued 2 consignments to manifest" in printed
    assert "Only <@U0LEAD001> can manifest" in printed
    assert "📬 Delivered · signed by R. Customer" in printed  # the watcher, by itself
    assert "⚠️ Delivery failed — card left" in printed and "[Ship a replacement]" in printed
    # The delivery desk: order 100235, made by the webshop, shipped with another service.
    assert "📥 Order 100235 · from the webshop" in printed
    assert "booking is released" in printed and "✅ Allocated to" in printed
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert len(pdfs) == 5, pdfs
    assert any("cn22" in name or "cn23" in name for name in pdfs)
    assert all(p.read_bytes().startswith(b"%PDF") for p in out.glob("*.pdf"))
