"""`qa eval SET --answerer llm`: what became of a model's claims, counted per question and in the report.

The model is a small server over a real socket that answers every question with three claims about
the first passage it is shown: one quoted verbatim, one quoted in lower case without accents (located
after folding), one invented (dropped). So the counts are known in advance.
"""
from __future__ import annotations

import json
import re
import unicodedata

import pytest

from qa.cli import main as qa_main
from qa.config import help_table
from qa.eval import Report, evaluate

from .test_llm import _completion, http_server


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def three_claims(path, headers, body):
    """Claims about passage [1] of the prompt: its first 8 words verbatim, the next 8 folded, and one invented."""
    user = body["messages"][-1]["content"]
    first = re.search(r"\[1\] \((?:en|fr)\) (.*)", user).group(1)
    words = first.split()
    claims = [{"passage": 1, "quote": " ".join(words[:8]), "claim": " ".join(words[:8])},
              {"passage": 1, "quote": _plain(" ".join(words[8:16])), "claim": " ".join(words[8:16])},
              {"passage": 1, "quote": "The moon is made of green cheese, said the chairman.", "claim": "Moon"}]
    return _completion(json.dumps({"claims": claims}))


@pytest.fixture
def clean_env(monkeypatch):
    for var, _, _ in help_table():  # the user's QA_* settings must not change what is measured
        if var != "QA_HOME":
            monkeypatch.delenv(var, raising=False)


def test_the_report_counts_verbatim_folded_and_dropped_claims_and_times_the_answers(seeds_index, tmp_path, clean_env):
    with http_server(three_claims) as (url, seen):
        report = evaluate("seeds", answerer="llm", llm_url=url, limit=8, baselines=False, embed_latency=False,
                          workdir=tmp_path, cache=seeds_index.settings.home / "cache")
    asked = [o for o in report.outcomes if o.by_model is not None]
    assert len(seen) == len(asked) >= 4  # one model call per question the documents answer
    for o in report.outcomes:
        if o.by_model is None:  # abstained: the model is not asked, nothing claimed
            assert o.claims == (0, 0, 0, 0) and not o.answered
            continue
        verbatim, folded, replaced, dropped = o.claims  # a passage's line breaks are spaces in the prompt:
        assert (verbatim + folded, replaced, dropped) == (2, 0, 1), o  # a quote across one is found folded
        assert o.by_model and o.exact_citations == o.citations >= 1
    whole = report.subset("all")
    assert whole.model_asked == len(asked) and whole.by_model == len(asked)
    assert sum(whole.claims) == 3 * len(asked) and whole.claims[0] >= 1 and whole.claims[3] == len(asked)
    assert "answerer LLMAnswerer(" in report.info and url in report.info
    text = str(report)
    assert "model claims" in text and "verbatim" in text and "ask ours p50" in text
    again = Report.load(_written(report, tmp_path))
    assert again.subset("all").claims == whole.claims and again.outcomes[0].claims == report.outcomes[0].claims


def _written(report: Report, tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report.to_dict(), ensure_ascii=False), "utf-8")
    return path


def test_qa_eval_takes_the_answerer_and_its_server_on_the_command_line(seeds_index, tmp_path, clean_env, capsys):
    with http_server(three_claims) as (url, seen):
        code = qa_main(["eval", "seeds", "--answerer", "llm", "--llm-url", url, "--limit", "2", "--no-baselines",
                        "--workdir", str(tmp_path), "--cache", str(seeds_index.settings.home / "cache")])
    out = capsys.readouterr().out
    assert code == 0 and seen and "model claims" in out and url in out


def test_an_extractive_run_reports_no_model_claims(seeds_index, tmp_path, clean_env):
    report = evaluate("seeds", limit=2, baselines=False, embed_latency=False, workdir=tmp_path,
                      cache=seeds_index.settings.home / "cache")
    assert all(o.claims == () and o.by_model is None for o in report.outcomes)
    assert "model claims" not in str(report) and "answerer" not in report.info
