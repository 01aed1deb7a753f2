"""How an evaluation report is shown: the terminal table (`qa eval` prints it) and the PNG chart."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .report import Report

def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_report(r: Report) -> str:
    col = max(max(len(s) for s in r.systems) + 2, 22)
    pad = " " * (col - 18)
    lines = [f"{r.set}: {r.info}; {r.seconds:.0f} s", "",
             f"{'retrieval':<14}{'n':>5}  " + "".join(f"{s:<{col}}" for s in r.systems),
             f"{'':<14}{'':>5}  " + f"{'R@1':>6}{f'R@{r.k}':>6}{'MRR':>6}{pad}" * len(r.systems)]
    for s in r.subsets:
        lines.append(f"{s.name:<14}{s.n_answerable:>5}  " + "".join(
            f"{_f(x.r1):>6}{_f(x.rk):>6}{_f(x.mrr):>6}{pad}" for x in s.scores))
    if any(x.a1 is not None for s in r.subsets for x in s.scores):
        lines += ["", f"{'answer in top':<14}{'n':>5}  " + "".join(f"{s:<{col}}" for s in r.systems),
                  f"{'':<14}{'':>5}  " + f"{'@1':>6}{f'@{r.k}':>6}{'chars':>6}{pad}" * len(r.systems)]
        for s in r.subsets:
            lines.append(f"{s.name:<14}{s.n_answerable:>5}  " + "".join(
                f"{_f(x.a1):>6}{_f(x.ak):>6}{_f(x.top_chars, 0):>6}{pad}" for x in s.scores))
        lines.append(f"  R@1: the right document first. answer in top @1 / @{r.k}: a gold answer inside the top "
                     f"passage (one of the top {r.k}), as retrieve returns it, of the right document; chars: the top "
                     "passage's mean length")
    if any(s.answered is not None for s in r.subsets):
        lines += ["", f"{'answers':<14}{'n':>5}{'accuracy':>10}{'answered':>10}{'abstained':>11}"
                      f"{'citations exact':>17}{'cited chars':>13}{'quoted chars':>14}{'top in q lang':>15}"
                      f"{'short':>7}{'right':>7}"]
        for s in r.subsets:
            exact = f"{_f(s.citation_exactness)} ({s.citations})"
            lines.append(f"{s.name:<14}{s.n:>5}{_f(s.answer_accuracy):>10}{_f(s.answered):>10}{_f(s.abstained):>11}"
                         f"{exact:>17}{_f(s.mean_cited_chars, 0):>13}{_f(s.mean_quoted_chars, 0):>14}"
                         f"{_f(s.top_in_question_lang):>15}{_f(s.short_given):>7}{_f(s.short_right):>7}")
        lines.append("  accuracy: answerable questions answered with a gold answer; answered: of the answerable; "
                     "abstained: of the unanswerable; cited chars: the passages cited, each; quoted chars: what an "
                     "answer quotes, all its citations; short: answers led by a short answer (\"Nitin Desai [1] — …\"), "
                     "of the answerable answered; right: of those, holding a gold answer or sharing at least half its words (token F1 >= 0.5)")
    if any(s.claims for s in r.subsets):
        lines += ["", f"{'model claims':<14}{'asked':>6}{'by model':>10}{'claims':>8}{'verbatim':>10}{'folded':>8}"
                      f"{'replaced':>10}{'dropped':>9}"]
        for s in r.subsets:
            n = sum(s.claims) if s.claims else 0
            share = lambda i: _f(s.claims[i] / n if n else None)  # noqa: E731
            lines.append(f"{s.name:<14}{s.model_asked:>6}{s.by_model:>10}{n:>8}{share(0):>10}{share(1):>8}"
                         f"{share(2):>10}{share(3):>9}")
        lines.append("  asked: questions the model was asked (those the documents answer); by model: answers made of "
                     "its claims (the others: the extractive answer, with a note); claims: what it claimed, by what "
                     "became of the quote: verbatim in its passage, located after folding case/accents/quotes/"
                     "whitespace, replaced by the passage's sentence it paraphrases, or dropped")
    if r.latency_ms:
        lines += ["", "latency per question (ms): "
                  + "; ".join(f"{what} p50 {a:.0f} p95 {b:.0f}" for what, a, b in r.latency_ms)]
    return "\n".join(lines)


def plot(r: Report, path: str | Path) -> Path:
    """Bars of R@1 and R@k (and, when measured, the answer inside the top passage) per subset (question
    language, cross-lingual) and system, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    subsets = [s for s in r.subsets if s.n_answerable]
    panels = [("r1", "R@1"), ("rk", f"R@{r.k}")]
    if any(s.score(system).a1 is not None for s in subsets for system in r.systems):
        panels.append(("a1", "answer in top"))
    fig = Figure(figsize=(max(6.0, 1.2 * len(subsets) * (1 + len(r.systems) / 4) + 1.5), 3.2 * len(panels)),
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True)
    x, width = np.arange(len(subsets)), 0.8 / len(r.systems)
    for ax, (metric, label) in zip(axes, panels):
        for i, system in enumerate(r.systems):
            values = [getattr(s.score(system), metric) or 0.0 for s in subsets]
            bars = ax.bar(x + (i - (len(r.systems) - 1) / 2) * width, values, width, label=system)
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.set_xticks(x, [f"{s.name}\n(n={s.n_answerable})" for s in subsets])
        ax.set_ylim(0, 1.08)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(r.systems), fontsize=8)
    split = f", {r.split} split" if r.split != "all" else ""
    answer = ", the answer inside the top passage" if len(panels) > 2 else ""
    fig.suptitle(f"{r.set}: R@1, R@{r.k}{answer} per subset (embedder {r.embedder}{split})", fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path
