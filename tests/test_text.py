"""Document side, piece by piece: decoding, sentences, language, chunks, BM25 tokens."""
from __future__ import annotations

import pytest

from index import bm25
from index.chunker import chunk
from index.lang import detect, tag_paragraphs
from index.loader import Unreadable, read_text
from index.sentences import sentences

from .conftest import SEED_000, SEED_004, SEEDS


@pytest.mark.parametrize("name,data,encoding", [
    ("utf8.txt", "Le Président a dit : « d’accord ».".encode("utf-8"), "utf-8"),
    ("bom.txt", "\ufeffÉté à Genève.".encode("utf-8"), "utf-8-sig"),
    ("latin1.txt", "Le Président a présenté le rapport à Genève, en été. Très bien.".encode("cp1252"), None),
])
def test_decoding_reports_the_encoding(tmp_path, name, data, encoding):
    f = tmp_path / name
    f.write_bytes(data)
    doc = read_text(f)
    assert "Président" in doc.text or "Été" in doc.text
    if encoding:
        assert doc.encoding == encoding
    else:
        assert doc.encoding not in ("utf-8", "utf-8-sig")


@pytest.mark.parametrize("data,reason", [
    (b"", "is empty"),
    (b"   \n\t  \n", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
])
def test_unreadable_files_say_why(tmp_path, data, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(data)
    with pytest.raises(Unreadable, match=reason):
        read_text(f)


def test_sentences_keep_exact_offsets_and_abbreviations():
    text = "J'ai demandé à M. Nitin Desai d'en être le Président.\nMr. Utsumi agreed. Then:\n- first item\n- second item"
    spans = sentences(text)
    got = [text[a:b] for a, b in spans]
    assert got[0] == "J'ai demandé à M. Nitin Desai d'en être le Président."
    assert "Mr. Utsumi agreed." in got
    assert "- first item" in got and "- second item" in got


@pytest.mark.parametrize("text,lang", [
    ("Who chaired the Working Group on Internet Governance?", "en"),
    ("Quelles conditions la société civile pose-t-elle pour participer à la Phase II ?", "fr"),
    ("Wer leitete die Arbeitsgruppe für Internet-Verwaltung?", "de"),
    ("¿Quién presidió el grupo de trabajo sobre la gobernanza de Internet?", "es"),
    ("Кто возглавлял рабочую группу по управлению интернетом?", "ru"),
    ("谁主持了互联网治理工作组？", "zh"),  # no spaces between words: it was taken for one word, then English
    ("作業部会の議長は誰でしたか？", "ja"),
    # names say nothing of the language around them (PIAF questions lingua gave to English or Italian)
    ("Quel est la appartenance du virus Coxsackie B ?", "fr"),
    ("À partir de quelle moment du championnat l'équipe du FC Internazionale Milano est elle en tête ?", "fr"),
    ("A quoi jouent Lincoln et Edward Dickinson Baker ?", "fr"),
    ("Who chaired the WGIG?", "en"),
])
def test_question_language(text, lang):
    assert detect(text) == lang


def test_seed_000_becomes_an_english_then_a_french_segment():
    doc = read_text(SEEDS / SEED_000)
    chunks = chunk(doc)
    langs = [c.lang for c in chunks]
    first_fr = langs.index("fr")
    assert set(langs[:first_fr]) == {"en"} and set(langs[first_fr:]) <= {"fr"}
    assert "Chers membres du Bureau" in chunks[langs.index("fr", first_fr + 1) - 1].text or any(
        "Chers membres du Bureau" in c.text for c in chunks if c.lang == "fr")
    assert all(c.lang == "en" for c in chunks if "Dear Members of the Bureau" in c.text)


def test_chunks_are_verbatim_spans_small_enough_to_cite_and_stable():
    for name in (SEED_000, SEED_004):
        doc = read_text(SEEDS / name)
        a, b = chunk(doc), chunk(read_text(SEEDS / name))
        assert [c.id for c in a] == [c.id for c in b]
        for c in a:
            assert doc.text[c.start:c.end] == c.text
            assert len(c.text) <= 700
            assert doc.text.count("\n", 0, c.start) + 1 == c.lines[0]


def test_short_paragraphs_follow_their_neighbours():
    tags = tag_paragraphs(["This is a long English paragraph about the summit and its preparation.",
                           "Alain, Louise", "Chers membres du Bureau, voici les nouvelles de la semaine."])
    assert tags == ["en", "en", "fr"]


@pytest.mark.parametrize("text,expected", [
    ("l'Internet", ["internet"]),
    ("d’information", ["inform"]),
    ("qu'une participation", ["particip"]),
    ("différentes étapes", ["different", "etap"]),
])
def test_bm25_terms_fold_accents_and_split_elisions(text, expected):
    assert bm25.doc_terms(text, "fr") == expected


def test_bm25_finds_french_text_from_unaccented_question_and_updates_in_place():
    idx = bm25.BM25()
    idx.add("a", bm25.doc_terms("La stratégie d'ensemble pour la Phase II reste vague.", "fr"))
    idx.add("b", bm25.doc_terms("The ITU will organise a meeting on Internet governance.", "en"))
    assert idx.search(bm25.query_terms("strategie ensemble"))[0][0] == "a"
    assert idx.search(bm25.query_terms("meetings organised by the ITU"))[0][0] == "b"
    idx.remove("a")
    assert idx.search(bm25.query_terms("strategie ensemble")) == []
    assert len(idx) == 1


def test_bm25_top_n_matches_a_full_sort_and_follows_removals():
    import random

    rng = random.Random(7)
    vocab = [f"mot{i}" for i in range(300)]
    idx = bm25.BM25()
    docs = {f"d{i}": [rng.choice(vocab) for _ in range(rng.randint(5, 40))] for i in range(2000)}
    for cid, terms in docs.items():
        idx.add(cid, terms)
    query = vocab[:5]
    full = idx.search(query, n=len(docs))
    assert idx.search(query, n=10) == full[:10]
    idx.remove(full[0][0])
    after = idx.search(query, n=len(docs))
    assert full[0][0] not in {cid for cid, _ in after}
    assert idx.search(query, n=10) == after[:10]
