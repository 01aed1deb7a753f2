"""Letters inside a document: where each begins and ends, its date line, its signature, its addressee.

A letter says some things only through its layout: "Je suis très heureux de pouvoir vous transmettre
aujourd'hui le rapport" is dated by the line "Le 11 juillet 2005" above it, signed by "(Signé) Kofi A.
Annan" below it and addressed to the block under the signature. A question about when it was sent,
who signed it or to whom is answered by those lines, not by any sentence of its body.

    >>> text = "Le 11 juillet 2005\\n\\nMonsieur le Secrétaire général,\\n\\nJe vous transmets le rapport.\\n\\n(Signé) Kofi A. Annan\\n\\nMonsieur Yoshio Utsumi\\nGenève\\n"
    >>> [text[a:b] for a, b in (letters(text)[0].date, letters(text)[0].signature, letters(text)[0].addressee)]
    ['Le 11 juillet 2005', '(Signé) Kofi A. Annan', 'Monsieur Yoshio Utsumi\\nGenève']

A letter is recognised by a date line alone in its paragraph followed, within three lines, by a
salutation ("Monsieur le Secrétaire général,", "Dear Mr ...,"); it runs to the next letter or the end.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|janvier|"
          "février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre")
_DATE_LINE = re.compile(  # "Le 11 juillet 2005", "Genève, le 3 mars 2004", "11 July 2005", "July 11, 2005"
    rf"^[ \t]*(?:[A-ZÀ-Þ][\w' -]{{0,30}},[ \t]*)?(?:le[ \t]+)?(?:\d{{1,2}}(?:er)?[ \t]+(?:{MONTHS})[ \t]+\d{{4}}"
    rf"|(?:{MONTHS})[ \t]+\d{{1,2}},?[ \t]+\d{{4}})[ \t]*$", re.IGNORECASE | re.MULTILINE)
_SALUTATION = re.compile(r"^[ \t]*(?:Monsieur|Madame|Mesdames|Messieurs|Cher|Chère|Chers|Excellence|Dear|Sir|Madam|"
                         r"Your Excellency)\b[^\n]{0,80},[ \t]*$", re.MULTILINE)
_SIGNATURE = re.compile(r"^[ \t]*\((?:Signé|Signed|signé|signed)\)[^\n]*$|^[ \t]*(?:Signé|Signed)[ \t]*:[^\n]+$",
                        re.MULTILINE)


@dataclass(frozen=True)
class Letter:
    start: int
    end: int
    date: tuple[int, int]  # offsets of the date line
    signature: tuple[int, int] | None = None  # the "(Signé) ..." line
    addressee: tuple[int, int] | None = None  # the block of lines under the signature


def letters(text: str) -> list[Letter]:
    """The letters of a text, in order (none for most documents)."""
    heads = []
    for m in _DATE_LINE.finditer(text):
        a, b = m.start() + len(m.group()) - len(m.group().lstrip()), m.end()
        b = a + len(text[a:b].rstrip())
        before, after = text[max(0, a - 2) : a], text[b : b + 300]
        alone = (a == 0 or before == "\n\n" or text[:a].strip() == "") and after.startswith("\n")
        sal = _SALUTATION.search(after)
        if alone and sal and after[: sal.start()].count("\n") <= 3:
            heads.append((a, b))
    out = []
    for i, (a, b) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        sig = _SIGNATURE.search(text, b, end)
        signature = addressee = None
        if sig:
            s0 = sig.start() + len(sig.group()) - len(sig.group().lstrip())
            signature = (s0, sig.end())
            block = text[sig.end() : end]
            lines = block.strip("\n")
            if lines.strip():
                lo = sig.end() + block.index(lines)
                first = lines.split("\n\n")[0].rstrip()
                addressee = (lo, lo + len(first))
        out.append(Letter(a, end, (a, b), signature, addressee))
    return out


def letter_at(text: str, offset: int) -> Letter | None:
    """The letter holding `offset`, if any."""
    return next((lt for lt in letters(text) if lt.start <= offset < lt.end), None)
