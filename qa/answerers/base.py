"""The answerer seam: what every way of answering (extractive today; an LLM, a trained reader) takes
and gives, and the one citation check they all share.

An answerer gets the question as asked and searched, in its language, the passages retrieval found
(best first) and the conversation so far; it returns an `Answer` whose every `Citation.quote` is
`source_text[start:end]` of its file. `Index.ask` then runs `verify` on it, whatever answered, so no
quote is ever shown unchecked. A new answerer is one new module with a class like this, registered in
`qa.answerers.ANSWERERS`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from index.loader import Sources
from index.types import Passage

from ..errors import StaleSourceError
from ..types import Answer

MESSAGES = {
    "en": {"lead": "According to the documents: ", "in": " (in {lang})", "none":
           "The documents do not say. I found no passage that answers this question.",
           "other": "Your question seems to be in {lang}; I answer in English, the documents being in English and French."},
    "fr": {"lead": "D’après les documents : ", "in": " (en {lang})", "none":
           "Les documents ne le disent pas : aucun passage ne répond à cette question.",
           "other": ""},
}
LANG_NAMES = {"en": {"en": "English", "fr": "French"}, "fr": {"en": "anglais", "fr": "français"}}


@dataclass(frozen=True)
class Query:
    text: str  # the question as asked (whitespace folded)
    search: str  # what was searched: the question, or a follow-up merged with the previous question
    lang: str  # the answer's language: "en" or "fr"
    note: str = ""  # shown above the answer (e.g. the question seemed to be in German)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # `search`'s embedding


class Answerer(ABC):
    name: str = "?"

    @classmethod
    def from_settings(cls, collection, settings) -> "Answerer":
        """The answerer over an `index.collection.Collection`, configured from a `qa.config.Settings`."""
        return cls(collection)

    @abstractmethod
    def answer(self, query: Query, passages: list[Passage], sources: Sources, history=()) -> Answer:
        """An answer to `query` from `passages` (best first). `sources` reads their files, once each
        for the whole answer; `history` is the conversation so far (Gradio messages or pairs)."""


def verify(ans: Answer, sources: Sources | None = None) -> None:
    """Check every quote against its source file at its offsets, so no quote is shown unverified.

    Raises StaleSourceError (naming the file) when a file changed or vanished since it was indexed.
    A file is decoded again only when its size or modification time changed (a PDF takes long to read).
    """
    sources = sources or Sources()
    for c in ans.citations:
        src = c.passage.source
        text = sources.text(src)
        if text is None:
            raise StaleSourceError(f"{src} cannot be read any more ({sources.error(src)}); "
                                   "run `qa index` again or `qa remove` it")
        if text[c.start : c.end] != c.quote:
            raise StaleSourceError(f"{src} changed since it was indexed, so its quote [{c.n}] cannot be verified; "
                                   "run `qa index` on it again")
