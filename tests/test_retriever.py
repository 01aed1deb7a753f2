"""Index.as_retriever(): our retrieval inside llama-index pipelines (qa/llamaindex.py), over the seeds."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, TextNode

from qa.errors import ConfigError, QuestionError
from qa.llamaindex import to_node

from .conftest import ROOT, SEED_004
from .test_structure import _file_text

CHAIR = "Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?"


def test_the_nodes_carry_our_passages_verbatim_with_file_language_and_offsets(seeds_index):
    retriever = seeds_index.as_retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve(CHAIR)
    passages = seeds_index.retrieve(CHAIR, k=3)
    assert len(nodes) == 3 and all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    assert [n.node.node_id for n in nodes] == [p.id for p in passages]  # the same passages, best first
    assert [n.score for n in nodes] == [p.score for p in passages]
    top = nodes[0].node
    assert top.metadata["file_name"] == SEED_004 and top.metadata["lang"] == "fr"
    for n, p in zip(nodes, passages):
        m = n.node.metadata
        assert _file_text(m["source"])[m["start"] : m["end"]] == n.node.text == p.text  # verbatim, at its offsets
        assert (n.node.start_char_idx, n.node.end_char_idx) == (p.start, p.end)
        assert (m["line_start"], m["line_end"]) == p.lines and m["where"] == p.location
        assert n.node.ref_doc_id == p.source
        assert all(isinstance(v, (str, int, float)) for v in m.values())  # flat: any vector store takes it


def test_an_english_question_gets_english_passages_of_the_bilingual_seed(seeds_index):
    nodes = seeds_index.as_retriever().retrieve("When will the first Prepcom of Phase II take place?")
    assert len(nodes) == seeds_index.settings.k and nodes[0].node.metadata["lang"] == "en"


def test_a_title_is_carried_when_the_passage_has_one(seeds_index):
    p = seeds_index.retrieve(CHAIR, k=1)[0]
    assert to_node(p).node.metadata.get("title", "") == p.title  # the document's title, when it has one
    assert to_node(replace(p, title="Lettre de Kofi Annan")).node.metadata["title"] == "Lettre de Kofi Annan"
    assert "title" not in to_node(replace(p, title="")).node.metadata
    assert to_node(replace(p, twin="abc")).node.metadata["twin"] == "abc"


def test_the_retriever_answers_inside_a_llama_index_query_engine(seeds_index):
    """MockLLM with no max_tokens echoes its prompt: what llama-index gave the model is our passages'
    text with their file name and language, not their offsets; the response's sources are our nodes."""
    engine = RetrieverQueryEngine.from_args(seeds_index.as_retriever(k=2), llm=MockLLM())
    response = engine.query(CHAIR)
    passages = seeds_index.retrieve(CHAIR, k=2)
    assert [n.node.node_id for n in response.source_nodes] == [p.id for p in passages]
    prompt = str(response)
    assert f"file_name: {SEED_004}" in prompt and "lang: fr" in prompt and CHAIR in prompt
    assert " ".join(passages[0].text.split()) in " ".join(prompt.split())
    assert "start: " not in prompt and "line_start" not in prompt


def test_bad_arguments_are_refused_with_the_value_named(seeds_index):
    with pytest.raises(ConfigError, match="Currently, k is 0"):
        seeds_index.as_retriever(k=0)
    with pytest.raises(QuestionError):
        seeds_index.as_retriever().retrieve("   ")


def test_answering_a_question_does_not_load_llama_index():
    probe = ("import json, sys, qa; from qa import Index; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('llama_index'))))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_documents_evidence_is_summed_over_its_chunks_when_asked():
    from index.catalog import ChunkRow
    from index.retrieval import Candidate, by_document

    def cand(cid, path, score):
        return Candidate(ChunkRow(cid, path, 0, 0, 1, (1, 1), "fr", "x", "", None), score, 0.0, 0.0)

    cands = [cand("a", "one.txt", 1.2), cand("b1", "long.txt", 1.0), cand("b2", "long.txt", 0.7),
             cand("c", "other.txt", -0.5)]
    assert by_document(cands, 0.0) == cands  # off: unchanged
    got = by_document(cands, 0.4)
    assert [c.row.id for c in got] == ["b1", "a", "b2", "c"]  # long.txt says more: its best chunk leads
    assert got[0].score == pytest.approx(1.0 + 0.4 * 0.7) and got[1].score == pytest.approx(1.2)
    assert got[3].score == pytest.approx(-0.5)  # nothing positive beside it
