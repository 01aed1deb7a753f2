"""Index.ask / Index.stream with the llm answerer's hooks (qa/api.py diff)."""
from __future__ import annotations

from index.loader import Sources
from qa import Answer, Index
from qa.answerers.base import verify
from qa.answerers.llm import LLMAnswerer
from qa.answerers.llm_client import ChatClient

from .test_llm import _free_port
from .test_structure import QUESTIONS


class _Rewrites(LLMAnswerer):
    """The llm answerer with a server that is down, whose rewrite is recorded and answered at once."""

    def __init__(self, collection):
        super().__init__(collection, ChatClient(f"http://127.0.0.1:{_free_port()}", timeout=2))
        self.calls = []

    def rewrite(self, question, history):
        self.calls.append((question, list(history)))
        return "Par qui le Groupe de travail a-t-il été constitué ?"


def test_index_ask_searches_the_rewritten_follow_up_and_says_so(seeds_index):
    idx = Index(seeds_index.settings.home, settings=seeds_index.settings)
    idx.answerer = _Rewrites(idx.collection)
    history = [(QUESTIONS[0][0], "Le 11 novembre 2004.")]
    ans = idx.ask("Et par qui ?", history=history)
    assert idx.answerer.calls == [("Et par qui ?", history)]
    assert ans.searched == "Par qui le Groupe de travail a-t-il été constitué ?" and ans.answered
    assert "127.0.0.1" in ans.note  # the model is down: the extractive answer, said so
    assert idx.ask(QUESTIONS[0][0]).searched == QUESTIONS[0][0] and len(idx.answerer.calls) == 1  # no history: no rewrite
    *deltas, final = list(idx.stream("Et par qui ?", history=history))
    assert isinstance(final, Answer) and final.searched.startswith("Par qui") and all(isinstance(d, str) for d in deltas)
    verify(final, Sources())
    assert seeds_index.ask(QUESTIONS[0][0]).searched == QUESTIONS[0][0]  # extractive: what was searched too
    assert list(seeds_index.stream(QUESTIONS[0][0]))[-1].answerer == "extractive"
