"""The structure the features stand on: one-way layers, and one contract for every answerer."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa import Answer, Index
from qa.answerers import ANSWERERS, Answerer, Query
from qa.answerers.base import verify
from qa.errors import StaleSourceError

from .conftest import ROOT, SEED_000, SEED_004

PROBE = r"""
import json, os, pkgutil, sys, importlib
before = dict(os.environ)
import index
names = sorted(m.name for m in pkgutil.iter_modules(index.__path__))
for n in names:
    importlib.import_module("index." + n)
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"modules": names, "qa": sorted(m for m in sys.modules if m == "qa" or m.startswith("qa.")),
                  "changed": changed}))
"""


def test_the_document_side_imports_nothing_from_the_question_side():
    """Every index module, imported in a fresh interpreter, loads no qa module, and the only change to
    the environment is index.offline's documented defaults."""
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"collection", "ingest", "retrieval", "embedders", "store", "loader", "readers"} <= set(got["modules"])
    assert got["qa"] == []
    from index.offline import OFFLINE

    assert set(got["changed"]) <= set(OFFLINE), got["changed"]


def test_no_module_of_ours_but_index_offline_touches_the_environment():
    sources = [p for d in ("qa", "index") for p in (ROOT / d).rglob("*.py")] + [ROOT / "app.py"]
    writers = [p.relative_to(ROOT).as_posix() for p in sources
               if any(w in p.read_text("utf-8") for w in ("os.environ.setdefault", "os.environ[", "putenv"))]
    assert writers == ["index/offline.py"]


QUESTIONS = [  # (question, file that must be cited, or None: any)
    ("Quand le Groupe de travail a-t-il été constitué ?", SEED_004),
    ("When will the first Prepcom of Phase II take place?", SEED_000),
    ("Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?", None),
]
OFF_TOPIC = "What is the recipe for a good chocolate cake with strawberries?"


def _file_text(path: str) -> str:
    """The file decoded here, independently of the loader's cache (utf-8-sig: a BOM is not text)."""
    return Path(path).read_bytes().decode("utf-8-sig")


@pytest.mark.parametrize("name", sorted(ANSWERERS))
def test_every_answerer_keeps_the_contract(name, seeds_index):
    """Same questions for every registered answerer: each quote verbatim in its file at its offsets and
    inside its passage, the answer says which answerer wrote it, and an off-topic question is not answered."""
    idx = Index(seeds_index.settings.home, settings=seeds_index.settings.with_(answerer=name))
    assert isinstance(idx.answerer, Answerer) and idx.answerer.name == name
    assert_keeps_the_contract(idx, name)


def assert_keeps_the_contract(idx: Index, name: str) -> None:
    """The contract of every answerer (tests/test_llm.py runs it over the LLM answerer too)."""
    for question, gold in QUESTIONS:
        ans = idx.ask(question)
        assert isinstance(ans, Answer) and ans.answerer == name and ans.searched == question
        assert ans.answered and ans.citations, (question, ans.text)
        assert gold in {Path(c.passage.source).name for c in ans.citations} | {None}, (question, str(ans))
        for c in ans.citations:
            text = _file_text(c.passage.source)
            assert text[c.start : c.end] == c.quote
            assert text[c.passage.start : c.passage.end] == c.passage.text
            assert c.passage.start <= c.start and c.end <= c.passage.end
            assert f"[{c.n}]" in ans.text
    off = idx.ask(OFF_TOPIC)
    assert not off.answered and not off.citations and off.answerer == name


def test_verify_refuses_a_quote_that_is_not_in_the_file(seeds_index):
    """The check every answerer's output goes through: one character off and the answer is refused."""
    from dataclasses import replace

    ans = seeds_index.ask(QUESTIONS[0][0])
    verify(ans)
    c = ans.citations[0]
    forged = replace(ans, citations=[replace(c, quote=c.quote[:-1] + "?")])
    with pytest.raises(StaleSourceError, match="cannot be verified"):
        verify(forged)


class _FirstSentence(Answerer):
    """A second answerer is one class: this one quotes the first passage's text whole."""

    name = "first-passage"

    def answer(self, query: Query, passages, sources, history=()):
        from qa.types import Citation

        p = passages[0]
        return Answer(f"“{p.text}” [1]", query.lang, True, [Citation(1, p.text, p, p.start, p.end)],
                      answerer=self.name)


def test_a_second_answerer_plugs_in_without_touching_the_index(seeds_index):
    idx = Index(seeds_index.settings.home, settings=seeds_index.settings, answerer=_FirstSentence())
    ans = idx.ask(QUESTIONS[0][0])
    assert ans.answerer == "first-passage" and ans.citations[0].quote == ans.citations[0].passage.text
