"""👍/👎 kept with the question, the answer and its citations; `qa feedback export` writes them as an
evaluation set that `qa eval` reads (qa.eval.sets.read_questions)."""
from __future__ import annotations

import pytest

from qa.cli import main
from qa.eval.sets import read_questions
from qa.feedback import Feedback

from .conftest import SEED_004

FORMED_FR = "Quand le Groupe de travail a-t-il été constitué ?"
NOT_SAID = "What is the capital of Australia?"


@pytest.mark.slow
def test_verdicts_become_an_evaluation_set(tmp_path, seeds_index, capsys):
    fb = Feedback(tmp_path / "home" / "feedback.sqlite")
    good, none = seeds_index.ask(FORMED_FR), seeds_index.ask(NOT_SAID)
    prepcom_q = "When will the first Prepcom of Phase II take place?"
    prepcom = seeds_index.ask(prepcom_q)
    fb.record(FORMED_FR, good.to_dict(), False, "c1", 0)
    fb.record(FORMED_FR, good.to_dict(), True, "c1", 0)  # changed: the later verdict counts
    fb.record(NOT_SAID, none.to_dict(), True, "c1", 1)
    fb.record(prepcom_q, prepcom.to_dict(), False, "c2", 0)
    assert [liked for liked, _, _ in fb.all()] == [True, True, False]

    out = tmp_path / "set.jsonl"
    assert main(["feedback", "export", "-o", str(out), "--home", str(tmp_path / "home")]) == 0
    said = capsys.readouterr().out
    assert "2 questions written" in said and "1 👎 left out" in said
    qs = read_questions(out)
    assert [(q.text, q.lang, q.answerable) for q in qs] == [(FORMED_FR, "fr", True), (NOT_SAID, "en", False)]
    assert SEED_004 in qs[0].gold and any("Nitin Desai" in a for a in qs[0].answers)
    assert qs[1].gold == () and qs[1].answers == ()


def test_export_without_feedback_says_so(tmp_path, capsys):
    assert main(["feedback", "export", "-o", str(tmp_path / "x.jsonl"), "--home", str(tmp_path)]) == 2
    assert "no feedback in" in capsys.readouterr().err
