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
    """Point QA_HOME (the default data folder) at a temporary folder for the whole session."""
    home = tmp_path_factory.mktemp("qa-home")
    old = os.environ.get("QA_HOME")
    os.environ["QA_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("QA_HOME", None)
    else:
        os.environ["QA_HOME"] = old


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory):
    """A real index of the seeds (real e5 embedder, real Chroma on disk), built once per session."""
    from qa import Index

    idx = Index(tmp_path_factory.mktemp("seeds-index"))
    report = idx.add([SEEDS])
    assert len(report.added) == 3, report.summary()
    return idx
