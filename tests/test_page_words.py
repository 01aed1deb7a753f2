"""The page's words that are not Gradio labels, in both languages: the upload report, where a quote
is in its file, the line saying who wrote an answer. Fast: no index, no browser."""
from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from index.report import Report
from index.types import Passage
from qa.chat import byline
from qa.library import report_markdown
from qa.render import citation_html
from qa.types import Answer, Citation


def _report() -> Report:
    r = Report()
    r.added.append("/up/a.md")
    r.failed.append(("/up/b.exe", "unsupported file type (.exe)"))
    r.chunks = 4
    return r


@pytest.mark.parametrize("lang, summary, added", [
    ("en", "**1 added, 0 updated, 0 removed, 0 unchanged, 0 skipped, 1 failed, 4 chunks written**", "- ✓ added a.md"),
    ("fr", "**ajoutés : 1, mis à jour : 0, retirés : 0, inchangés : 0, ignorés : 0, en échec : 1, passages écrits : 4**",
     "- ✓ ajouté : a.md"),
])
def test_the_upload_report_is_in_the_pages_language(lang, summary, added):
    lines = report_markdown(_report(), lang).splitlines()
    assert lines[0] == summary and lines[1] == added
    assert lines[2] == "- ⚠️ b.exe unsupported file type (.exe)"  # the indexer's reason, as it is


@pytest.mark.parametrize("where, lines, en, fr", [
    ("", (3, 4), "lines 3–4", "lignes 3–4"), ("line 7", (7, 7), "line 7", "ligne 7"),
    ("lines 12–18", (12, 18), "lines 12–18", "lignes 12–18"),
])
def test_the_place_of_a_quote_is_written_in_both_languages_for_the_page_to_choose(where, lines, en, fr):
    text = "\n".join(["Nitin Desai présidera."] * (lines[1] - lines[0] + 1))
    p = Passage(text, "/nowhere/x.txt", "fr", 1.0, 0, len(text), lines, where=where)
    card = citation_html(Citation(1, text, p, 0, len(text)))
    assert f'<span class="qa-bi"><span lang="en">{en}</span><span lang="fr">{fr}</span></span>' in card


def test_two_quotes_of_one_passage_each_say_their_own_lines():
    text = "Le Groupe de travail\nsera présidé par M. Nitin Desai.\n\nJe suis très heureux\nde vous transmettre."
    p = Passage(text, "/nowhere/x.txt", "fr", 1.0, 100, 100 + len(text), (30, 34), where="lines 30–34")
    first = Citation(1, text[:53], p, 100, 153)
    second = Citation(2, text[55:], p, 155, 100 + len(text))
    assert (first.location, second.location) == ("lines 30–31", "lines 33–34")
    assert str(second).startswith("[2] x.txt (fr, lines 33–34)")
    assert "lines 33–34" in citation_html(second) and "lines 30–34" not in citation_html(second)
    assert Citation.from_dict(asdict(second)) == second  # as a conversation stores it
    heading = replace(p, where="Article 3 › Paragraph 2")  # a heading path is the passage's place, whatever its line
    assert Citation(2, text[55:], heading, 155, 100 + len(text)).location == "Article 3 › Paragraph 2"


def test_a_page_or_a_heading_is_the_same_in_both_languages():
    p = Passage("Texte.", "/nowhere/x.pdf", "fr", 1.0, 0, 6, (1, 1), where="p. 3")
    card = citation_html(Citation(1, "Texte", p, 0, 5))
    assert "· FR · p. 3</span>" in card and "qa-bi" not in card


@pytest.mark.parametrize("answer, shown", [
    (Answer("x [1]", "en", True, answerer="llm", dropped=2, dropped_why=("quote not in passage 2",) * 2),
     "written by the model · 2 claims dropped: quote not in passage 2"),
    (Answer("x [1]", "fr", True, answerer="llm", dropped=1, dropped_why=("citation absente du passage 1",)),
     "rédigée par le modèle · 1 affirmation écartée : citation absente du passage 1"),
    (Answer("x [1]", "fr", True, answerer="llm", note="Le modèle de langue n’a pas pu répondre (délai) ; voici à "
            "la place les phrases mêmes des documents."), "citations seules (extractif)"),  # it fell back
    (Answer("x [1]", "en", True, answerer="extractive"), "quotes only (extractive)"),
])
def test_who_wrote_an_answer_is_said_in_its_language(answer, shown):
    assert byline(answer) == f"<small class='qa-by'>{shown}</small>"


def test_a_rewritten_follow_up_says_what_was_searched():
    ans = Answer("x [1]", "fr", True, answerer="llm", searched="Par qui le Groupe de travail a-t-il été constitué ?")
    assert byline(ans, "Et par qui ?") == ("<small class='qa-by'>rédigée par le modèle · cherché : « Par qui le Groupe "
                                           "de travail a-t-il été constitué ? »</small>")
    assert "cherché" not in byline(replace(ans, searched="Et  par qui ?"), "Et par qui ?")  # searched as asked
