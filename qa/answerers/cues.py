"""What a question asks for, and whether a sentence has it: the cues the extractive answer scores.

- the kind of thing asked (a person for "who", a date for "when"...) and the contact line asked by
  name ("the fax number");
- which lines of a letter answer it (its date, its signature, its addressee: index.letters);
- the question's words with their stems and translations (index.lexicon), to count the ones a
  sentence holds;
- the capitalised names no indexed passage contains ("Australia"), which lower the evidence.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from index import bm25 as bm25mod
from index.letters import MONTHS
from index.lexicon import OTHER, Lexicon
from index.retrieval import translated_terms

ACRONYMS = Path(__file__).resolve().parents[2] / "index" / "acronyms-en-fr.tsv"

# (what the question asks for, how a question asks it, what a sentence that answers it contains)
ANSWER_TYPES = [
    ("person", r"^(?:who|whom|whose|qui)\b|\b(?:who|qui)\b",
     r"\b(?:M\.|Mr\.?|Mrs\.?|Ms\.?|Mme|Monsieur|Madame|Dr\.?)\s+[A-ZÀ-Þ]|(?<!^)\b[A-ZÀ-Þ][a-zà-ÿ]+\s+[A-ZÀ-Þ][a-zà-ÿš]+"),
    ("date", r"\b(?:when|what month|what year|quand|quel mois|quelle année|de quand|dates?|dated|datée?s?|datent)\b", rf"\b(?:19|20)\d\d\b|\b(?:{MONTHS})\b"),
    ("number", r"\b(?:how many|how much|combien|quel numéro|what number)\b", r"\d"),
    ("place", r"\b(?:where|où|dans quel(?:le)? (?:ville|pays)|in which (?:city|country))\b",
     r"\b(?:à|au|en|in|at)\s+[A-ZÀ-Þ][a-zà-ÿ]"),
]
# The lines of a contact block, asked for by name: "Fax : 41 22 789 53 82" answers "what is the fax
# number", however little else it shares with the question. Same layout as ANSWER_TYPES.
CONTACT_TYPES = [
    ("fax", r"\bfax\b|\btélécopie(?:ur)?\b", r"\b(?:fax|télécopie(?:ur)?)\b\s*:?\s*\+?\(?\d"),
    ("phone", r"\b(?:phone|telephone|téléphone|tel)\b", r"\b(?:tel|tél|phone|téléphone|telephone)\b\.?\s*:?\s*\+?\(?\d"),
    ("email", r"\be-?mail\b|\bcourriel\b|\badresse électronique\b", r"[\w.-]+@[\w-]+\.\w|\b[\w.-]+ at [\w-]+\.\w{2,}\b"),
    ("address", r"(?<!e-mail )(?<!email )\b(?:address|adresse)\b(?! électronique| e-?mail)",
     r"^[ \t]*\d{1,4}[ ,]+(?:rue|chemin|avenue|av\.|boulevard|bd|place|route|street|road|lane)\b|"
     r"^[ \t]*(?:[A-Z]{1,2}[- ]?)?\d{4,5}[ \t]+[A-ZÀ-Þ]"),
]


# what a letter's own lines answer (index.letters): when it was sent, who signed it, to whom it went
LETTER_PARTS = {
    "date": None,  # any "when" question whose best sentence in the letter has no date
    "signature": r"\b(?:who|qui)\b.*\b(?:wrote|write|written|signed|sign|sent|send|signé|signée?s?|écrit|envoy\w*)\b|"
                 r"\b(?:signator(?:y|ies)|signataires?|author|auteur|sender|expéditeur)\b",
    "addressee": r"\bto whom\b|\bà qui\b|\baddressed to\b|\bdestinataires?\b|\brecipients?\b|\badressée?s? à\b",
}


def letter_parts(question: str, types: list[str]) -> list[str]:
    """The parts of a letter that may answer the question."""
    q = question.lower()
    return [part for part, asks in LETTER_PARTS.items() if (part in types if asks is None else re.search(asks, q))]


def names_a_letter(question: str) -> bool:
    """ "the date of the letters", "qui a signé la lettre": a question about a letter as a letter."""
    return re.search(r"\b(?:letters?|lettres?|courriers?|missives?)\b", question.lower()) is not None


def expected_types(question: str, kinds=ANSWER_TYPES) -> list[str]:
    """What the question asks for: "person", "date"... (or of `kinds`=CONTACT_TYPES: "fax"...)."""
    q = question.lower()
    return [name for name, asks, _ in kinds if re.search(asks, q)]


def has_type(sentence: str, types: list[str], kinds=ANSWER_TYPES) -> bool:
    """Does the sentence hold one of the things asked for?"""
    return any(re.search(pattern, sentence, (re.IGNORECASE if name != "person" else 0) | re.MULTILINE)
               for name, _, pattern in kinds if name in types)


def question_words(question: str, qlang: str, lexicon: bool = True) -> list[tuple[set[str], set[str]]]:
    """Each distinct word of the question as (its stems, what it may be in the other language): the
    stems under both stemmers, and with `lexicon` their translations (index.lexicon), so a French
    sentence can share "président" with "Who chaired...?"."""
    lex = Lexicon.default() if lexicon and qlang in OTHER else None
    out = []
    for w in dict.fromkeys(bm25mod.words(question)):
        stems = {bm25mod.stem(w, "fr"), bm25mod.stem(w, "en")}
        other = stems | {t for t, _ in lex.translate(bm25mod.stem(w, qlang), qlang)} if lex else stems
        out.append((stems, other))
    return out


def shares(forms: set[str], terms: set[str], prefix: int = 5) -> bool:
    """Does a sentence (its stems) hold one of a word's forms? Equal stems, or one a prefix of the other
    from `prefix` characters on: Snowball stems "présidé" to "presid" and "Président" to "president"."""
    if forms & terms:
        return True
    return prefix > 0 and any(len(f) >= prefix and len(t) >= prefix and (t.startswith(f) or f.startswith(t)) for f in forms for t in terms)


def unknown_names(question: str, knows, qlang: str = "") -> list[str]:
    """Capitalised words of the question (after the first) that no indexed passage contains, under
    either stemmer, nor, for an acronym, its other names (index/acronyms-en-fr.tsv: "ONU" is known to
    documents that say "Nations Unies"), nor (with `qlang`) any of their translations (index.lexicon): a question about
    "Australia" is not answered by documents that never name it, but an English question's
    "Secretary-General" is named by French documents that say "Secrétaire général"."""
    def known(word: str) -> bool:
        return any(map(knows, bm25mod.query_terms(word)))

    def named(name: str) -> bool:  # each content word of "Nations Unies" in some passage (bm25 drops "of", "de")
        words = bm25mod.words(name)
        return bool(words) and all(map(known, words))

    out = []
    for w in re.findall(r"\w+", question)[1:]:
        if not w[:1].isupper() or len(w) <= 2:
            continue
        terms = bm25mod.query_terms(w)
        if not terms or any(map(knows, terms)):  # no terms: a stop word ("Les", "The"), no name
            continue
        if any(map(knows, one_edit([t for t in terms if len(t) >= MISSPELT_FROM]))):  # "Battenverg": Battenberg mistyped
            continue
        if any(map(named, acronyms().get(w, ()))):  # the same body under another name: "ONU", "Nations Unies"
            continue
        if qlang in OTHER and any(map(knows, translated_terms(w, qlang))):
            continue
        out.append(w)
    return out


MISSPELT_FROM = 7  # a name whose stem is this long, one letter away from an indexed word (one_edit), is that word mistyped


def one_edit(terms: list[str]) -> list[str]:
    """Every string one substituted letter or one swap of two neighbours away from a term (stems are
    lower-case and accent-folded: a-z, 0-9). Not a letter more or less: "Australian" and "Australia",
    "Herrmann" and "Hermann" are other words or other people as often as typos."""
    letters, out = "abcdefghijklmnopqrstuvwxyz0123456789", set()
    for t in terms:
        for i in range(len(t)):
            out.update(t[:i] + c + t[i + 1:] for c in letters)
            if i + 1 < len(t):
                out.add(t[:i] + t[i + 1] + t[i] + t[i + 2:])
    return sorted(out - set(terms))


@lru_cache(maxsize=1)
def acronyms() -> dict[str, tuple[str, ...]]:
    """index/acronyms-en-fr.tsv: an acronym -> its other names (acronyms, expansions, both languages)."""
    out = {}
    for line in ACRONYMS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, names = line.split("\t", 1)
            out[key.strip()] = tuple(n.strip() for n in names.split("|") if n.strip())
    return out


_PERSON = re.compile(r"\b(?:M\.|Mr\.?|Mrs\.?|Ms\.?|Mme|Dr\.?|Monsieur|Madame|Excellence)\s+"
                     r"((?:[A-ZÀ-Þ][\w'’-]*\.?\s+){0,2}[A-ZÀ-Þ][\w'’-]+)")
_DATE = re.compile(rf"\b(?:\d{{1,2}}(?:er)?(?:[-–]\d{{1,2}})?\s+(?:{MONTHS})\s+\d{{4}}|(?:{MONTHS})\s+\d{{1,2}},?\s+\d{{4}}"
                   rf"|(?:{MONTHS})\s+\d{{4}})\b", re.IGNORECASE)
_CONTACT_VALUE = {
    "fax": r"\b(?:fax|télécopie(?:ur)?)\b\s*:?\s*(\+?[\d(][\d ()./-]{5,}\d)",
    "phone": r"\b(?:tel|tél|phone|téléphone|telephone)\b\.?\s*:?\s*(\+?[\d(][\d ()./-]{5,}\d)",
    "email": r"([\w.-]+@[\w-]+(?:\.\w+)+|[\w.-]+ at [\w-]+\.\w{2,})",
}


def short_answer(sentence: str, question: str, types: list[str], contacts: list[str]) -> tuple[int, int] | None:
    """Where in the sentence the thing asked for is, when it holds exactly one of them that the question
    does not already name: "Nitin Desai" in "...j'ai demandé à M. Nitin Desai, mon conseiller spécial...,
    d'en être le Président." for "Who chaired...?". Offsets into `sentence`; None when unsure."""
    q = question.lower()
    found: list[re.Match] = []
    for kind in contacts:
        if kind in _CONTACT_VALUE:
            found = list(re.finditer(_CONTACT_VALUE[kind], sentence, re.IGNORECASE))
            break
    else:
        if "person" in types:
            found = [m for m in _PERSON.finditer(sentence) if not any(w.lower() in q for w in m.group(1).split())]
        elif "date" in types:
            found = [m for m in _DATE.finditer(sentence) if m.group().lower() not in q]
    values = {m.group(m.lastindex or 0) for m in found}
    if len(values) != 1:
        return None
    m = found[0]
    g = m.lastindex or 0
    return m.start(g), m.end(g)


_LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\s]{1,2000}\)")  # [label](https://...)
_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>)\]]+>?")


def prose(text: str) -> str:
    """What a sentence says, without the addresses it links to: a Markdown link is its label, a bare URL
    nothing. "…disponibles ici : [https://www.canada.ca/en/democratic-institutions/…]" says nothing of
    democracy to a reader, but its URL's words made it the best match of an English question."""
    return _URL.sub(" ", _LINK.sub(r"\1", text))

