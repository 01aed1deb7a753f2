"""Smoke test of the speed benchmark: a tiny real run (real corpus text, use-v3, Chroma, llama-index)
writes a report with every field the issue asks for, a table and a plot."""
from __future__ import annotations

import json

import pytest

from bench import run


@pytest.mark.slow
def test_a_tiny_run_reports_every_measure(tmp_path):
    out = tmp_path / "results"
    run.main(["--sizes", "30", "--embedder", "use-v3", "--out", str(out), "--workdir", str(tmp_path / "work"),
              "--questions", "3", "--sample", "10", "--cold-runs", "1"])

    entry = json.loads((out / "report.json").read_text())["runs"][0]
    assert (entry["embedder"], entry["size"]) == ("use-v3", 30)
    for system in ("ours", "llama_index"):
        s = entry[system]
        assert s["ingest"]["seconds"] > 0 and s["ingest"]["raw"]["per_s"] > 0 and s["ingest"]["ratio_to_raw"] > 0
        assert s["retrieve"]["n"] == 3 and 0 < s["retrieve"]["p50_ms"] <= s["retrieve"]["p95_ms"]
        assert 0 < s["cold_start"]["median_s"] and s["peak_rss_mb"] > 0
    ours = entry["ours"]
    assert ours["ingest"]["chunks"] >= 30 and ours["ingest"]["texts_embedded"] > 0
    assert ours["ask"]["n"] == 3 and ours["retrieve_repeat"]["n"] == 3
    assert ours["retrieve"]["hit5"] is not None  # the French questions have their gold paragraph
    table = (out / "report.md").read_text()
    assert "| use-v3 |" in table and "llama-index" in table
    assert (out / "plot.png").read_bytes()[:4] == b"\x89PNG"
