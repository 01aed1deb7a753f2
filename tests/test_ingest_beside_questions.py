"""An ingest in a process that answers questions leaves them a core (index/collection.py,
Collection._ingest_embedder; measured by `python -m bench.beside --levers`)."""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from index.chunker import clean
from index.collection import GIL_BESIDE_QUESTIONS, Collection

from .conftest import SEEDS, SEED_004


@pytest.fixture
def collection(tmp_path):
    col = Collection(tmp_path / "home", "e5-small-int8")
    if type(col.embedder.inner).__name__ != "E5Fast":
        pytest.skip("e5-small-int8 cannot load here")
    return col


def test_indexing_alone_uses_every_core_and_beside_questions_one_fewer(collection, tmp_path):
    assert collection._ingest_embedder() is collection.embedder  # `qa index`: no question asked here
    interval, seen = sys.getswitchinterval(), []
    collection.add([SEEDS / SEED_004], chunk_chars=450, max_bytes=10_000_000,
                   progress=lambda *a: seen.append(sys.getswitchinterval()))
    assert set(seen) == {interval}  # and Python's own GIL switch interval
    collection.remove(str(SEEDS / SEED_004))
    collection.embed_query("Qui a présidé le Groupe de travail ?")
    writer = collection._ingest_embedder()
    assert writer is not collection.embedder and writer is collection._ingest_embedder()
    threads = writer.inner._session.get_session_options().intra_op_num_threads
    assert threads == max(1, len(os.sched_getaffinity(0)) - 1)
    assert writer.name == collection.embedder.name  # the same model: the same vectors, the same cache

    text = "Le Groupe de travail sur la gouvernance de l'Internet a remis son rapport."
    a = collection.embedder.inner.embed_batch([text], "passage")
    b = writer.inner.embed_batch([text], "passage")
    assert np.allclose(a, b, atol=1e-5)

    interval, seen = sys.getswitchinterval(), []
    report = collection.add([SEEDS / SEED_004], chunk_chars=450, max_bytes=10_000_000,
                            progress=lambda *a: seen.append(sys.getswitchinterval()))
    assert len(report.added) == 1 and len(collection) > 0  # indexed with it
    assert set(seen) == {GIL_BESIDE_QUESTIONS} and sys.getswitchinterval() == interval  # the GIL handed over
    keys = sorted({collection.embedder._key(clean(r.text), "passage") for r in collection.rows.values()})
    cached = collection.embedder._db.execute(f"SELECT count(*) FROM vec WHERE key IN ({','.join('?' * len(keys))})",
                                             keys).fetchone()[0]
    assert cached == len(keys)  # its vectors went to the one cache both read
    _, passages = collection.search("Quand le Groupe de travail a-t-il été constitué ?", "fr", 3)
    assert passages and passages[0].name == SEED_004


def test_a_warmed_collection_is_a_server_whose_ingests_leave_a_core(collection):
    collection.warm()  # what the web app calls at start, before any question
    assert collection._ingest_embedder() is not collection.embedder
