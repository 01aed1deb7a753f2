"""Language identification with lingua (a real n-gram model shipped in its wheel, no download).

The detector knows English and French plus the languages a user is most likely to type otherwise, so
"Wer leitete die Arbeitsgruppe?" is recognised as German (and answered in English, saying so) instead
of being forced into English or French.
"""
from __future__ import annotations

import threading
from functools import lru_cache

SUPPORTED = ("en", "fr")
NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
         "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "ru": "Russian", "ar": "Arabic",
         "zh": "Chinese", "ja": "Japanese", "tr": "Turkish", "sv": "Swedish"}
UNSPACED = ("zh", "ja")  # written without spaces between words
SUSPECT_AT_LEAST = 0.05  # a first, rough pass (trigrams) names the other languages worth a close look
OTHER_AT_LEAST = 0.8  # a close look among English, French and those: another language must reach this
_lock = threading.Lock()


@lru_cache(maxsize=512)
def _detector(codes: tuple[str, ...], low_accuracy: bool = False):
    """A lingua detector of these languages. Loading the high-accuracy models (all n-gram orders) is
    the cost of a first detection: 0.3 s of CPU for English and French, 1.4-1.9 s for all 14
    languages; the low-accuracy mode (trigrams only) loads all 14 in 0.07 s. Loaded models are shared
    by every detector of the process."""
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(*(getattr(Language, NAMES[c].upper()) for c in codes))
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def confidences(text: str, among: tuple[str, ...] = SUPPORTED, low_accuracy: bool = False) -> dict[str, float]:
    """Confidence of each of these languages (ISO 639-1 codes) for the text."""
    with _lock:  # the detector loads its models lazily; one thread at a time does it
        values = _detector(among, low_accuracy).compute_language_confidence_values(text)
    return {v.language.iso_code_639_1.name.lower(): v.value for v in values}


def detect(text: str, default: str = "en") -> str:
    """The language of a question or paragraph as an ISO 639-1 code.

    Two passes: a rough one over all 14 languages (trigrams only, cheap to load) names the other
    languages the text could be in; then English, French and those are weighed closely. Another
    language wins only when it gets >= 0.8 and the text has 2+ words; otherwise the more likely of
    English and French; `default` when there are no letters at all. Against one close pass over all
    14 languages (what it was before), see eval/langid.txt: the same on the eval questions, for a
    fraction of the first detection's cost (which loads the models).
    """
    if not any(ch.isalpha() for ch in text):
        return default
    text = _without_names(text)
    rough = confidences(text, tuple(NAMES), low_accuracy=True)
    suspects = tuple(c for c in NAMES if c not in SUPPORTED and rough.get(c, 0.0) >= SUSPECT_AT_LEAST)
    conf = confidences(text, SUPPORTED + suspects)
    best = max(conf, key=conf.get)
    words = len(text.split()) if best not in UNSPACED else len(text.strip()) // 2  # 2 characters a word
    if best not in SUPPORTED and conf[best] >= OTHER_AT_LEAST and words >= 2:
        return best
    return "fr" if conf.get("fr", 0) > conf.get("en", 0) else "en"


def warm() -> None:
    """Load every model a Latin-script question can need (1.4-1.7 s of CPU), so that no later
    question waits for one: for a long-running server. (A one-off question loads only what it uses.)"""
    confidences("Quel est le sujet de ce texte ? What is it about?", tuple(NAMES))


def _without_names(text: str) -> str:
    """The text without its capitalised words after the first: names and acronyms ("FC Internazionale
    Milano", "Clark Art Institute", "WGIG") say nothing of the language they are written in, and
    tipped 15 of 1,000 PIAF questions to English or Italian. Kept whole when fewer than 3 words remain."""
    words = text.split()
    kept = words[:1] + [w for w in words[1:] if not w[:1].isupper()]
    return " ".join(kept) if len(kept) >= 3 else text


def detect_supported(text: str, default: str = "en") -> str:
    """Like detect, but always "en" or "fr": for passages, which the index tags with one of the two."""
    if not any(ch.isalpha() for ch in text):
        return default
    conf = confidences(text)
    return "fr" if conf.get("fr", 0) > conf.get("en", 0) else "en"


def tag_paragraphs(texts: list[str], sure: float = 0.8, island: int = 300) -> list[str]:
    """Language ("en"/"fr") of each paragraph of a document.

    A paragraph is tagged on its own when the detector is sure of it (3+ words and one of the two
    languages >= `sure` of their combined confidence). Others (signatures, addresses, "1.") take the
    language of the paragraph before them, or after them at the start of a document.
    """
    tags: list[str | None] = []
    for t in texts:
        tag = None
        if len(t.split()) >= 3:
            conf = confidences(t)
            en, fr = conf.get("en", 0.0), conf.get("fr", 0.0)
            if en + fr > 0 and max(en, fr) / (en + fr) >= sure:
                tag = "fr" if fr > en else "en"
        tags.append(tag)
    known = [i for i, t in enumerate(tags) if t]
    if not known:
        return [detect_supported(" ".join(texts))] * len(texts)
    for i, t in enumerate(tags):
        if t is None:
            tags[i] = tags[i - 1] if i > 0 else tags[known[0]]
    # a short island (an address, a name list) inside text of the other language joins its surroundings
    runs, i = [], 0
    while i < len(tags):
        j = i
        while j < len(tags) and tags[j] == tags[i]:
            j += 1
        runs.append((i, j))
        i = j
    for (a, b), (pa, _), (na, _) in zip(runs[1:-1], runs, runs[2:]):
        if tags[pa] == tags[na] and sum(len(texts[k]) for k in range(a, b)) < island:
            tags[a:b] = [tags[pa]] * (b - a)
    return tags  # type: ignore[return-value]
