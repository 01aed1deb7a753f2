"""Question-language identification: the detector `index.lang.detect` uses against the 14-language
high-accuracy lingua detector it replaced, on every question and sentence of the eval sets.

    python -m qa.eval.langid            # writes eval/langid.txt

English and French texts: how often each detector names the right language, and how often it calls
one "another language" (the answer would then say "your question seems to be in German").
Other languages: 80 questions written for this check (10 each in German, Spanish, Italian,
Portuguese, Dutch, Polish, Swedish and Turkish; 2 of each are short) about the seeds' subjects.
Also the CPU time of each detector's first detection in a fresh process (its models load then).
"""
from __future__ import annotations

import json
import subprocess
from functools import partial
import sys

from .sets import REPO as ROOT
from .sets import shared_dir

OTHER = {
    "de": ["Wer leitete die Arbeitsgruppe zur Internet-Governance?",
           "Wann findet der zweite Teil des Gipfels in Tunis statt?",
           "Welche Rolle spielt die Zivilgesellschaft bei diesem Prozess?",
           "Wie viele Mitglieder hat die Arbeitsgruppe?",
           "Was hat der Generalsekretär im März angekündigt?",
           "Gibt es einen Bericht über die Finanzierungsmechanismen?",
           "Wo kann ich die Dokumente des Gipfels finden?",
           "Warum wurde das Treffen verschoben?",
           "Wer ist der Vorsitzende?",
           "Wann beginnt das Treffen?"],
    "es": ["¿Quién presidió el grupo de trabajo sobre la gobernanza de Internet?",
           "¿Cuándo se celebrará la segunda fase de la cumbre en Túnez?",
           "¿Qué papel tiene la sociedad civil en este proceso?",
           "¿Cuántos miembros tiene el grupo de trabajo?",
           "¿Qué anunció el Secretario General en marzo?",
           "¿Existe un informe sobre los mecanismos de financiación?",
           "¿Dónde puedo encontrar los documentos de la cumbre?",
           "¿Por qué se aplazó la reunión?",
           "¿Quién es el presidente?",
           "¿Cuándo empieza la reunión?"],
    "it": ["Chi ha presieduto il gruppo di lavoro sulla governance di Internet?",
           "Quando si terrà la seconda fase del vertice a Tunisi?",
           "Quale ruolo ha la società civile in questo processo?",
           "Quanti membri ha il gruppo di lavoro?",
           "Che cosa ha annunciato il Segretario generale a marzo?",
           "Esiste un rapporto sui meccanismi di finanziamento?",
           "Dove posso trovare i documenti del vertice?",
           "Perché la riunione è stata rinviata?",
           "Chi è il presidente?",
           "Quando inizia la riunione?"],
    "pt": ["Quem presidiu o grupo de trabalho sobre a governação da Internet?",
           "Quando será realizada a segunda fase da cimeira em Tunes?",
           "Qual é o papel da sociedade civil neste processo?",
           "Quantos membros tem o grupo de trabalho?",
           "O que anunciou o Secretário-Geral em março?",
           "Existe um relatório sobre os mecanismos de financiamento?",
           "Onde posso encontrar os documentos da cimeira?",
           "Por que razão a reunião foi adiada?",
           "Quem é o presidente?",
           "Quando começa a reunião?"],
    "nl": ["Wie was de voorzitter van de werkgroep over internetbestuur?",
           "Wanneer vindt de tweede fase van de top in Tunis plaats?",
           "Welke rol speelt het maatschappelijk middenveld in dit proces?",
           "Hoeveel leden heeft de werkgroep?",
           "Wat heeft de secretaris-generaal in maart aangekondigd?",
           "Is er een verslag over de financieringsmechanismen?",
           "Waar kan ik de documenten van de top vinden?",
           "Waarom werd de vergadering uitgesteld?",
           "Wie is de voorzitter?",
           "Wanneer begint de vergadering?"],
    "pl": ["Kto przewodniczył grupie roboczej do spraw zarządzania internetem?",
           "Kiedy odbędzie się druga faza szczytu w Tunisie?",
           "Jaką rolę odgrywa społeczeństwo obywatelskie w tym procesie?",
           "Ilu członków ma grupa robocza?",
           "Co sekretarz generalny ogłosił w marcu?",
           "Czy istnieje raport o mechanizmach finansowania?",
           "Gdzie mogę znaleźć dokumenty ze szczytu?",
           "Dlaczego spotkanie zostało przełożone?",
           "Kto jest przewodniczącym?",
           "Kiedy zaczyna się spotkanie?"],
    "sv": ["Vem var ordförande för arbetsgruppen för internetstyrning?",
           "När äger toppmötets andra fas rum i Tunis?",
           "Vilken roll har det civila samhället i denna process?",
           "Hur många medlemmar har arbetsgruppen?",
           "Vad meddelade generalsekreteraren i mars?",
           "Finns det en rapport om finansieringsmekanismerna?",
           "Var kan jag hitta dokumenten från toppmötet?",
           "Varför sköts mötet upp?",
           "Vem är ordförande?",
           "När börjar mötet?"],
    "tr": ["İnternet yönetişimi çalışma grubuna kim başkanlık etti?",
           "Zirvenin ikinci aşaması Tunus'ta ne zaman yapılacak?",
           "Sivil toplumun bu süreçteki rolü nedir?",
           "Çalışma grubunun kaç üyesi var?",
           "Genel Sekreter mart ayında ne açıkladı?",
           "Finansman mekanizmaları hakkında bir rapor var mı?",
           "Zirvenin belgelerini nerede bulabilirim?",
           "Toplantı neden ertelendi?",
           "Başkan kim?",
           "Toplantı ne zaman başlıyor?"],
}


def en_fr_texts() -> dict[str, list[tuple[str, str]]]:
    """(text, language) of every eval question and of sentence-pair sets, by set."""
    shared = shared_dir()
    sets: dict[str, list[tuple[str, str]]] = {}
    for name in ("seeds_dev", "paris_call"):
        rows = [json.loads(line) for line in (ROOT / "tests" / "data" / f"{name}.jsonl").open()]
        sets[name] = [(r["question"], r["lang"]) for r in rows]
    piaf = json.loads((shared / "eval" / "piaf" / "piaf-v1.0.json").read_text())
    sets["piaf (all)"] = [(qa["question"], "fr") for art in piaf["data"] for p in art["paragraphs"]
                          for qa in p["qas"]]
    tat = shared / "eval" / "tatoeba-fra-eng"
    sets["tatoeba (1,000 + 1,000)"] = (
        [(s, "en") for s in (tat / "tatoeba.fra-eng.eng").read_text().splitlines()[:1000]]
        + [(s, "fr") for s in (tat / "tatoeba.fra-eng.fra").read_text().splitlines()[:1000]])
    un = shared / "eval" / "un-parallel-devset"
    sets["un dev (1,000 + 1,000)"] = (
        [(s, "en") for s in (un / "UNv1.0.devset.en").read_text().splitlines()[:1000]]
        + [(s, "fr") for s in (un / "UNv1.0.devset.fr").read_text().splitlines()[:1000]])
    return sets


def old_confidences(text: str, *_ignored, **_also) -> dict[str, float]:
    """What the detector weighed before: all 14 languages at high accuracy, in one pass."""
    from index import lang
    return lang.confidences(text, tuple(lang.NAMES))


def old_detect():
    """The detector before: 14 languages, high accuracy, one step (as index/lang.py had it)."""
    from index import lang

    def detect(text: str, default: str = "en") -> str:
        if not any(ch.isalpha() for ch in text):
            return default
        conf = old_confidences(lang._without_names(text))
        best = max(conf, key=conf.get)
        if best in lang.SUPPORTED or (conf[best] >= 0.5 and len(text.split()) >= 2):
            return best
        return "fr" if conf.get("fr", 0) > conf.get("en", 0) else "en"
    return detect


def paragraph_tags() -> tuple[int, list[str]]:
    """Index-time tags (index.lang.tag_paragraphs) with the English+French detector they use now
    against the 14-language one they used before, over the paragraphs of the seeds, the Paris Call,
    the UDHR, the CIS corpus and PIAF: (paragraphs, the ones tagged differently)."""
    from index import lang
    from index.chunker import paragraphs
    from index.loader import read_text
    shared = shared_dir()
    docs = []
    for folder in (ROOT / "seeds", shared / "eval" / "paris-call", shared / "eval" / "udhr-en-fr",
                   shared / "eval" / "cis-internet-governance-en"):
        for f in sorted(p for p in folder.rglob("*") if p.suffix in (".txt", ".md", ".html")):
            text = read_text(f).text
            docs.append([text[a:b] for a, b in paragraphs(text)])
    piaf = json.loads((shared / "eval" / "piaf" / "piaf-v1.0.json").read_text())
    docs.append([p["context"] for art in piaf["data"] for p in art["paragraphs"]])
    new_confidences, differ, count = lang.confidences, [], 0
    try:
        for texts in docs:
            new = lang.tag_paragraphs(texts)
            lang.confidences = partial(new_confidences, among=tuple(lang.NAMES))  # as before
            before = lang.tag_paragraphs(texts)
            lang.confidences = new_confidences
            count += len(texts)
            differ += [t for t, a, b in zip(texts, new, before) if a != b]
    finally:
        lang.confidences = new_confidences
    return count, differ


FIRST_QUESTIONS = ("Quand le Groupe de travail a-t-il été constitué ?",
                   "Who chaired the Working Group on Internet Governance?",
                   "Wer leitete die Arbeitsgruppe zur Internet-Governance?")
FIRST_DETECTION = """
import resource, time
t = time.perf_counter()
{setup}
d({question!r})
r = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - t, r.ru_utime + r.ru_stime)
"""


def first_detection(setup: str, question: str, runs: int = 3) -> tuple[float, float]:
    """Median wall and CPU seconds (whole process) of a fresh process's first detection."""
    got = []
    for _ in range(runs):
        code = FIRST_DETECTION.format(setup=setup, question=question)
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
        got.append((float(out[0]), float(out[1])))
    got.sort()
    return got[len(got) // 2]


def main() -> None:
    from index.lang import detect
    old = old_detect()
    lines = ["# Question-language identification: index.lang.detect (new) against the 14-language",
             "# high-accuracy detector it replaced (old). Command: python -m qa.eval.langid", ""]
    lines.append(f"{'set':<26}{'texts':>7}{'old right':>11}{'new right':>11}"
                 f"{'old other':>11}{'new other':>11}{'differ':>8}")
    diffs = []
    for name, items in list(en_fr_texts().items()) + [
            ("other languages (8 x 10)", [(q, code) for code, qs in OTHER.items() for q in qs])]:
        o = [old(t) for t, _ in items]
        n = [detect(t) for t, _ in items]
        gold = [g for _, g in items]
        right_o = sum(a == g for a, g in zip(o, gold))
        right_n = sum(a == g for a, g in zip(n, gold))
        other_o = sum(a not in ("en", "fr") for a in o)
        other_n = sum(a not in ("en", "fr") for a in n)
        diff = [(t, g, a, b) for (t, g), a, b in zip(items, o, n) if a != b]
        diffs += [(name,) + d for d in diff]
        lines.append(f"{name:<26}{len(items):>7}{right_o:>11}{right_n:>11}{other_o:>11}{other_n:>11}"
                     f"{len(diff):>8}")
    lines += ["", "Texts the two detectors read differently (set | gold | old | new | text):"]
    lines += [f"  {s} | {g} | {a} | {b} | {t[:100]}" for s, t, g, a, b in diffs[:80]]
    if len(diffs) > 80:
        lines.append(f"  ... and {len(diffs) - 80} more")
    count, differ = paragraph_tags()
    lines += ["", f"Paragraph tags at index time (English+French detector, before 14 languages): "
              f"{count} paragraphs, {len(differ)} tagged differently"]
    lines += [f"  {t[:100]}" for t in differ[:20]]
    lines += ["", "First detection in a fresh process (median of 3; wall s / CPU s of the whole process,"
              " imports included):"]
    for q in FIRST_QUESTIONS:
        o = first_detection("from qa.eval import langid; d = langid.old_detect()", q)
        n = first_detection("from index.lang import detect as d", q)
        lines.append(f"  {q[:56]:<58} old {o[0]:.2f} / {o[1]:.2f}   new {n[0]:.2f} / {n[1]:.2f}")
    text = "\n".join(lines) + "\n"
    (ROOT / "eval" / "langid.txt").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
