"""Search only in some documents: Index.retrieve / Index.ask(..., documents=[...]) over the seeds."""
from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import ConfigError

from .conftest import SEED_000, SEED_002, SEED_004, SEEDS

pytestmark = pytest.mark.slow  # the seeds index, with the real e5 model


def test_retrieve_within_one_document_returns_only_its_passages(seeds_index):
    everywhere = seeds_index.retrieve("Quand le Groupe de travail a-t-il été constitué ?", k=5)
    assert Path(everywhere[0].source).name == SEED_004
    within = seeds_index.retrieve("Quand le Groupe de travail a-t-il été constitué ?", k=5,
                                  documents=[SEEDS / SEED_002])
    assert within and {Path(p.source).name for p in within} == {SEED_002}
    assert all(p.title for p in within)


def test_ask_within_documents_cites_only_them(seeds_index):
    question = "When will the first Prepcom of Phase II take place?"
    assert Path(seeds_index.ask(question).citations[0].passage.source).name == SEED_000
    only = seeds_index.ask(question, documents=[str(SEEDS / SEED_002), str(SEEDS / SEED_004)])
    cited = {Path(c.passage.source).name for c in only.citations} | {Path(p.source).name for p in only.related}
    assert cited <= {SEED_002, SEED_004}, cited
    again = seeds_index.ask(question, documents=[SEEDS / SEED_000])
    assert again.answered and {Path(c.passage.source).name for c in again.citations} == {SEED_000}


@pytest.mark.parametrize("documents, says", [
    (["/nowhere/notes.md"], "/nowhere/notes.md is not an indexed document"),
    ([], "documents is empty"),
], ids=["unknown", "empty"])
def test_a_bad_choice_of_documents_is_named(seeds_index, documents, says):
    with pytest.raises(ConfigError, match=says):
        seeds_index.ask("Who chaired the Working Group?", documents=documents)
    with pytest.raises(ConfigError, match=says):
        seeds_index.retrieve("Who chaired the Working Group?", documents=documents)
