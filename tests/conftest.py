"""Shared fixtures. Tests never write into the working tree or the user's data folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = Path(os.environ.get("QA_SHARED") or ROOT.parent / "shared")  # the evaluation data, as CI has it
SEED_000 = "000_44176cd855f9542d.txt"  # English then French
SEED_002 = "002_57f22efca7e2138a.txt"  # French
SEED_004 = "004_48194a700c52b088.txt"  # French


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory):
    """Point QA_HOME (the default data folder) and XDG_CACHE_HOME (e5-small-int8's converted graph, the
    eval work folder) at temporary folders for the whole session."""
    home = tmp_path_factory.mktemp("qa-home")
    cache = tmp_path_factory.mktemp("xdg-cache")
    old = {k: os.environ.get(k) for k in ("QA_HOME", "XDG_CACHE_HOME")}
    os.environ["QA_HOME"], os.environ["XDG_CACHE_HOME"] = str(home), str(cache)
    yield home
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory):
    """A real index of the seeds (real e5 embedder, real Chroma on disk), built once per session."""
    from qa import Index

    idx = Index(tmp_path_factory.mktemp("seeds-index"))
    report = idx.add([SEEDS])
    assert len(report.added) == 3, report.summary()
    return idx
