"""The short answer inside a sentence: which words of it say the thing asked for ("Nitin Desai" in
"...j'ai demandé à M. Nitin Desai, mon conseiller spécial..., d'en être le Président." for "Who
chaired...?"), or that none does.

    >>> from qa.reader import Reader
    >>> Reader.default_span().span("Qui a présidé le groupe ?", "M. Nitin Desai en est le Président.")
    (3, 14, 6.2)      # characters of the sentence, and how sure: the best span's logits over "no span"'s

A span head (a start and an end logit per token) on the reader's encoder, e5-small's first 6 layers
with a trained LoRA delta (``span.npz``, 0.9 MB), reading ``<s> query: {question} </s> passage:
{sentence} </s>``; the sentence is tokenized word by word so that every token belongs to one of its
words, and a span starts and ends on word edges (punctuation around it is left out). The first token
(``<s>``) stands for "no span here": a span is given with its margin over that.

Trained by ``python -m qa.reader.span`` (20 minutes on 2 cores: 1,204 steps of 16): every train-split question of
PIAF and SQuAD (never a test article) with its answer's words in the sentence that holds it, and for
half of them another sentence of the paragraph, whose answer is "no span".
"""
from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

import numpy as np

from index.chunker import clean

ARTEFACT = Path(__file__).with_name("span.npz")
WORD = re.compile(r"\S+")
EDGE = "«»\"“”„'’‘()[]{}.,;:!?…"  # left out at a short answer's ends
MAX_WORDS = 12  # the longest short answer, in words


def span_ids(tok, f, question: str, sentence: str, max_tokens: int = 128,
             max_query: int = 48) -> tuple[list[int], list[int], list[tuple[int, int]]]:
    """Token ids of (question, sentence), the word of the sentence each token belongs to (-1: none),
    and the words' character spans in `sentence`. Words past ``max_tokens`` are left out."""
    q = tok.content_ids([f"query: {clean(question)}"])[0][:max_query]
    ids = [f.bos, *q, f.eos, *tok.content_ids(["passage:"])[0]]
    owner = [-1] * len(ids)
    words = [(m.start(), m.end()) for m in WORD.finditer(sentence)]
    pieces = tok.content_ids([sentence[a:b] for a, b in words]) if words else []
    kept = []
    for i, p in enumerate(pieces):
        if len(ids) + len(p) > max_tokens - 1:
            break
        ids += p or [f.unk]
        owner += [i] * max(len(p), 1)
        kept.append(words[i])
    return ids + [f.eos], owner + [-1], kept


def best_span(logits: np.ndarray, owner: list[int], max_words: int = MAX_WORDS) -> tuple[int, int, float] | None:
    """(first word, last word, margin) of the best span by start + end logit over the "no span" one at
    token 0; None when the sentence has no words."""
    first, last = {}, {}
    for t, w in enumerate(owner):
        if w >= 0:
            first.setdefault(w, t)
            last[w] = t
    if not first:
        return None
    n = max(first) + 1
    st = np.array([logits[first[w], 0] for w in range(n)])
    en = np.array([logits[last[w], 1] for w in range(n)])
    best, where = -np.inf, (0, 0)
    for i in range(n):
        j = i + int(np.argmax(en[i : i + max_words]))
        if st[i] + en[j] > best:
            best, where = st[i] + en[j], (i, j)
    return where[0], where[1], float(best - logits[0, 0] - logits[0, 1])


def trim(sentence: str, a: int, b: int) -> tuple[int, int]:
    """[a, b) without the punctuation at its ends ("(Nitin Desai)," -> "Nitin Desai")."""
    while a < b and sentence[a] in EDGE:
        a += 1
    while b > a and sentence[b - 1] in EDGE:
        b -= 1
    return a, b


# -- training ------------------------------------------------------------------------------------

def examples(split: str, rng: random.Random, negatives: float = 0.5) -> list[tuple[str, str, tuple[int, int] | None]]:
    """(question, sentence, (answer start, end) in it or None) for the PIAF and SQuAD questions of `split`."""
    from . import data

    out = []
    for it in data.examples(split):
        if it.source not in ("piaf", "squad"):
            continue
        s = it.sentences[it.positive]
        for a in it.answers:
            a = clean(a).strip()
            at = s.find(a) if a else -1
            if at < 0 and a:
                at = s.lower().find(a.lower())
            if at >= 0:
                out.append((it.question, s, (at, at + len(a))))
                break
        others = [x for j, x in enumerate(it.sentences[: it.paragraph]) if j != it.positive and not data.holds_answer(it.answers, x)]
        if others and rng.random() < negatives:
            out.append((it.question, rng.choice(others), None))
    rng.shuffle(out)
    return out


def targets(owner: list[int], words: list[tuple[int, int]], answer: tuple[int, int] | None) -> tuple[int, int] | None:
    """The tokens the answer starts and ends on (0, 0 for "no span"); None when it was cut off."""
    if answer is None:
        return 0, 0
    inside = [i for i, (a, b) in enumerate(words) if a < answer[1] and answer[0] < b]
    if not inside:
        return None
    toks = [t for t, w in enumerate(owner) if inside[0] <= w <= inside[-1]]
    return toks[0], toks[-1]


def main(argv=None) -> None:
    import torch
    import torch.nn.functional as F

    from . import weights
    from .encoder import Encoder, batch
    from .train import fast_math, optimise

    ap = argparse.ArgumentParser(description="Train the short-answer span head (qa/reader/span.npz).")
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--frozen", type=int, default=2)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--limit", type=int, default=0, help="the first N sequences only (0: all; for trying the command)")
    ap.add_argument("--out", type=Path, default=ARTEFACT)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    t0 = time.time()
    f, tok = weights.e5file(), weights.tokenizer()
    rows = []
    for q, s, ans in examples("train", rng):
        ids, owner, words = span_ids(tok, f, q, s, args.max_tokens)
        t = targets(owner, words, ans)
        if t is not None:
            rows.append((ids, owner, t))
    rows = rows[: args.limit] if args.limit else rows
    more = int(len(rows) * (args.epochs - 1))
    rows += [rows[i] for i in rng.sample(range(len(rows)), more)] if more > 0 else []
    model = Encoder(args.layers, rank=args.rank, scale=32 / args.rank, frozen=args.frozen)
    head = torch.nn.Linear(f.hidden, 2)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    steps = (len(rows) + args.batch - 1) // args.batch
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / steps))
    print(f"{len(rows)} sequences, {steps} steps ({time.time() - t0:.0f} s to prepare)", flush=True)
    model.train()
    losses, hits = [], []
    for step in range(steps):
        group = rows[step * args.batch : (step + 1) * args.batch]
        embeds, mask = batch([ids for ids, _, _ in group])
        with fast_math():
            states = model(embeds, mask, pool=False)
        logits = head(F.dropout(states.float(), 0.1))  # (B, S, 2)
        allowed = torch.zeros(mask.shape, dtype=torch.bool)
        for r, (_, owner, _) in enumerate(group):
            allowed[r, 0] = True
            allowed[r, : len(owner)] |= torch.tensor([w >= 0 for w in owner])
        logits = logits.masked_fill(~allowed[..., None], -1e4)
        st, en = torch.tensor([t[0] for _, _, t in group]), torch.tensor([t[1] for _, _, t in group])
        losses.append(optimise((F.cross_entropy(logits[..., 0], st) + F.cross_entropy(logits[..., 1], en)) / 2, opt, sched, params))
        hits += (logits[..., 0].argmax(1) == st).tolist()
        if (step + 1) % 25 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps}  loss {np.mean(losses[-50:]):.3f}  start right {np.mean(hits[-800:]):.3f}  "
                  f"{time.time() - t0:.0f} s", flush=True)
        if (step + 1) % 100 == 0 or step + 1 == steps:
            save(model, head, args)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f} s", flush=True)


def save(model, head, args) -> None:
    from . import weights

    delta = model.delta()
    delta.update({"head.w": head.weight.detach().numpy(), "head.b": head.bias.detach().numpy(), "span": np.int32(1),
                  "answerer_weight": np.float32(0.0), "layers": np.int32(args.layers), "lora_scale": np.float32(model.scale),
                  "max_tokens": np.int32(args.max_tokens), "max_query_tokens": np.int32(48), "context": np.int32(0)})
    weights.save(args.out, delta)


if __name__ == "__main__":
    main()
