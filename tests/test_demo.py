"""`shipbot demo` runs the whole flow (a return too) and leaves the PDFs on disk (the README's
first command)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.demo import run_demo


def _first_page(path: Path) -> str:
    return PdfReader(path).pages[0].extract_text()


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
    # A return: one parcel of order 1182 comes back, its label in the original's thread.
    assert "Return label” opens filled in: Rosa Customer sends it back, reference RET-1182" in (
        printed
    )
    assert "↩️ Return services for" in printed and "Royal Mail Tracked Returns 48" in printed
    assert "↩️ Return label made by @U0AGENT01" in printed
    assert "drop it at an Evri ParcelShop" in printed or "Post Office" in printed
    assert "it is pre-paid, no stamp needed. You can follow it at https://" in printed
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert len(pdfs) == 6, pdfs
    says_return = [p.name for p in out.glob("*.pdf") if "RETURN" in _first_page(p)]
    assert len(says_return) == 1, says_return
    assert any("cn22" in name or "cn23" in name for name in pdfs)
    assert all(p.read_bytes().startswith(b"%PDF") for p in out.glob("*.pdf"))
