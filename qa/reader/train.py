"""Train the reader: ``python -m qa.reader.train`` writes qa/reader/reader.npz (0.9 MB); a reader in
context (measured, not adopted: eval/sweep-reader-context-test.md): ``--context --out PATH`` (35 minutes
on the 2 cores: 3,320 steps of 4 questions, each read with its paragraph and a second passage of its
article's closest other sentences, 0.55-0.65 s a step).

Every train-split question (``data.examples("train")``: 2,928 PIAF, 3,578 SQuAD, 134 Paris Call), each
with its positive sentence and up to ``candidates - 1`` negatives (its paragraph's other sentences
first, then hard negatives from the article's other paragraphs; ``--foreign K``: K of them the closest
sentences of other articles), two epochs: 3,320 steps of 4 questions x 8 candidates, 39-52 minutes on
the 2 cores (0.7-0.8 s a step when nothing else runs).

The reader is trained as a correction to the extractive answerer's sentence score: the loss is the
softmax cross-entropy over each question's candidates of ``reader logit + w x answerer score`` (w
learned, from 20), so the reader learns what the score misses (the answerer reads ``score + logit / w``).
What is trained: a LoRA update of every linear layer of e5 layers ``frozen``..``layers``-1, their
biases and LayerNorms, and a linear head on the mean-pooled output. Deterministic for a given seed and
thread count. ``--null P`` (P of the questions read without their positive, a learned no-answer logit
the right answer then) was measured for abstention and not adopted (eval/REPORT.md, 2026-12-04).
"""
from __future__ import annotations

import argparse
import contextlib
import random
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from index.embedders import CachedEmbedder, e5_small_int8

from . import data, weights
from .encoder import Encoder, batch
from .model import ARTEFACT, context_ids, pair_ids


NULL_START = 0.95  # where --null's no-answer logit starts: the abstention threshold when it was measured (0.985 since)


def choose(items: list[data.Item], n: int, rng: random.Random) -> list[data.Item]:
    """``n`` PIAF/SQuAD items (0: all) and every Paris Call one, shuffled."""
    paris = [i for i in items if i.source.startswith("paris")]
    rest = [i for i in items if not i.source.startswith("paris")]
    chosen = rng.sample(rest, min(n or len(rest), len(rest))) + paris
    rng.shuffle(chosen)
    return chosen


def sample_items(items: list[data.Item], n: int, candidates: int, rng: random.Random,
                 foreign: int = 0) -> list[tuple[data.Item, list[str], int]]:
    """Each chosen item's positive among ``candidates - 1`` negatives: ``foreign`` of them from other
    articles (``Item.foreign``), the rest its paragraph's other sentences, then its article's."""
    out = []
    for it in choose(items, n, rng):
        own = [s for j, s in enumerate(it.sentences[: it.paragraph]) if j != it.positive]
        hard = list(it.sentences[it.paragraph :])
        rng.shuffle(own)
        far = list(it.foreign[:foreign])
        room = max(0, candidates - 1 - len(far))
        negs = (own[:room] + far + own[room:] + hard)[: candidates - 1]
        cands = negs + [it.sentences[it.positive]]
        rng.shuffle(cands)
        out.append((it, cands, cands.index(it.sentences[it.positive])))
    return out


def context_items(items: list[data.Item], n: int, rng: random.Random) -> list[tuple[data.Item, list[list[str]], int]]:
    """For a reader in context: each chosen item's sentences as the passages it reads, in order (its
    paragraph, then its article's other sentences closest to the question as a second one), and the
    positive's place among them all."""
    return [(it, [g for g in (list(it.sentences[: it.paragraph]), list(it.sentences[it.paragraph :])) if g], it.positive)
            for it in choose(items, n, rng)]


def answerer_features(items: list[data.Item], cands: list[list[str]], embedder) -> list[np.ndarray]:
    """The extractive answerer's score of each item's candidates (``embedder``: e5-small-int8, cached):
    the reader is trained as a correction to it (the loss sees reader logit + weight x this score)."""
    qvecs = embedder.embed([it.question for it in items], "query")
    embedder.embed(list(dict.fromkeys(s for c in cands for s in c)), "passage")  # batched, once
    return [data.answerer_scores(it, c, q, embedder) for it, c, q in zip(items, cands, qvecs)]


@lru_cache(maxsize=1)
def _bf16_cpu() -> bool:
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").exists() else []
    return "avx512_bf16" in flags or "amx_bf16" in flags


def fast_math():
    """bfloat16 autocast where the CPU computes in it (1.4x faster with AVX512-BF16; weights stay fp32);
    elsewhere fp32, as a CPU without it emulates bfloat16 some 10x slower (seen on an AVX2-only EPYC)."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if _bf16_cpu() else contextlib.nullcontext()


def pair_logits(model, head, tok, f, group, max_tokens) -> list[torch.Tensor]:
    """Each question's candidates read one by one with it: a logit per candidate."""
    ids, sizes = [], []
    for q, cands, _, _ in group:
        ids += pair_ids(tok, f, q, cands, max_tokens)
        sizes.append(len(cands))
    with fast_math():
        pooled = model(*batch(ids))
    return list(torch.split(head(F.dropout(pooled.float(), 0.1)).squeeze(-1), sizes))


def context_logits(model, head, tok, f, group, max_tokens) -> list[torch.Tensor]:
    """Each question read with its passages: a sentence's logit is the mean of its tokens' (as model.Reader)."""
    ids, wheres = [], []
    for q, groups, _, _ in group:
        seqs, where = context_ids(tok, f, q, groups, max_tokens)
        wheres.append([(len(ids) + r, a, b) for spots in where for r, a, b in spots])
        ids += seqs
    with fast_math():
        states = model(*batch(ids), pool=False)
    tokens = head(F.dropout(states.float(), 0.1)).squeeze(-1)
    return [torch.stack([tokens[r, a:b].mean() for r, a, b in spots]) for spots in wheres]


def optimise(loss: torch.Tensor, opt, sched, params) -> float:
    """One optimiser step on `loss` (gradients clipped at norm 1) and one of the schedule; its value."""
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    return loss.item()


def save(model: Encoder, head: torch.nn.Linear, args, weight: torch.Tensor | None = None,
         null: torch.Tensor | None = None) -> None:
    delta = model.delta()
    if null is not None and args.null:
        delta["null"] = np.float32(null.item())
    delta.update({"head.w": head.weight.detach().numpy()[0], "head.b": np.float32(head.bias.item()),
                  "answerer_weight": np.float32(weight.item() if weight is not None else 0.0),
                  "layers": np.int32(args.layers), "lora_scale": np.float32(model.scale),
                  "max_tokens": np.int32(args.max_tokens), "max_query_tokens": np.int32(48), "context": np.int32(args.context)})
    weights.save(args.out, delta)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=0, help="PIAF + SQuAD questions sampled, 0: all (Paris Call: all)")
    ap.add_argument("--candidates", type=int, default=8, help="sentences per question (1 positive)")
    ap.add_argument("--foreign", type=int, default=0,
                    help="of the negatives, sentences of other articles closest to the question (what retrieval brings; "
                         "2 was measured worse: eval/reader-foreign.txt)")
    ap.add_argument("--answerer-weight", type=float, default=20.0,
                    help="start of the learned weight of the answerer's score added to the reader's logit (0: reader alone)")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "bilingual-qa" / "reader-train-vectors.sqlite",
                    help="e5 vectors of the training sentences (for the answerer's score)")
    ap.add_argument("--epochs", type=float, default=2.0, help="passes over the questions (a fraction: a sample of them again)")
    ap.add_argument("--layers", type=int, default=6, help="e5 layers kept (of 12)")
    ap.add_argument("--frozen", type=int, default=2, help="bottom layers left as they are (the top ones get LoRA)")
    ap.add_argument("--rank", type=int, default=16, help="LoRA rank")
    ap.add_argument("--per-step", type=int, default=4, help="questions per optimiser step")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ARTEFACT)
    ap.add_argument("--context", action="store_true",
                    help="a reader in context: it reads the question with a passage's sentences together (model.context_ids)")
    ap.add_argument("--passages", action="store_true",
                    help="a passage reader: it reads the question with each whole 450-character passage (data.passage_items), "
                         "trained beside the passages' e5 cosine")
    ap.add_argument("--null", type=float, default=0.0,
                    help="share of the questions read without their positive, whose answer is then 'none of these': a "
                         "learned no-answer logit (saved as 'null') the candidates must fall under, for abstention")
    ap.add_argument("--init", type=Path, default=None, help="start from this reader's weights (same --layers, --frozen, --rank)")
    ap.add_argument("--max-tokens", type=int, default=None, help="tokens of one read sequence (default 128; 256 in context; 192 for passages)")
    args = ap.parse_args(argv)
    args.max_tokens = args.max_tokens or (256 if args.context else 192 if args.passages else 128)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    t0 = time.time()
    embedder = CachedEmbedder(e5_small_int8(), args.cache)
    if args.passages:
        pairs = data.passage_items("train", embedder, args.candidates - 1)
        cos = {id(it): x for it, x in pairs}
        chosen, feats = [], []
        for it in choose([it for it, _ in pairs], args.questions, rng):
            order = list(range(len(it.sentences)))
            rng.shuffle(order)
            chosen.append((it, [it.sentences[i] for i in order], order.index(it.positive)))
            feats.append(np.array([cos[id(it)][i] for i in order]) if args.answerer_weight else np.zeros(len(order)))
    else:
        items = data.examples("train")
        if args.foreign:
            items = data.with_foreign(items, embedder, args.foreign)
        chosen = (context_items(items, args.questions, rng) if args.context
                  else sample_items(items, args.questions, args.candidates, rng, args.foreign))
        if args.null and not args.context:  # without the positive, "none of these" is the answer (index len(cands))
            chosen = [(it, [c for i, c in enumerate(cands) if i != pos], len(cands) - 1) if rng.random() < args.null
                      else (it, cands, pos) for it, cands, pos in chosen]
        flat = [[s for g in c for s in g] if args.context else c for _, c, _ in chosen]  # in the order of the logits
        feats = (answerer_features([it for it, _, _ in chosen], flat, embedder) if args.answerer_weight
                 else [np.zeros(len(c)) for c in flat])
    train = [(it.question, cands, pos, torch.tensor(x, dtype=torch.float32)) for (it, cands, pos), x in zip(chosen, feats)]
    more = int(len(train) * (args.epochs - 1))
    train += [train[i] for i in rng.sample(range(len(train)), more)] if more > 0 else []
    weight = torch.nn.Parameter(torch.tensor(float(args.answerer_weight)), requires_grad=bool(args.answerer_weight))
    f, tok = weights.e5file(), weights.tokenizer()
    model = Encoder(args.layers, rank=args.rank, scale=32 / args.rank, frozen=args.frozen)
    head = torch.nn.Linear(f.hidden, 1)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    if args.init:
        start = dict(np.load(args.init))
        model.start_from(start)
        with torch.no_grad():
            head.weight.copy_(torch.from_numpy(start["head.w"].astype(np.float32))[None])
            head.bias.fill_(float(start["head.b"]))
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    params += [weight] if weight.requires_grad else []
    # the no-answer logit starts where the answerer abstains today (its calibrated evidence x the weight)
    first = float(start["null"]) if args.init and "null" in start else NULL_START * float(args.answerer_weight)
    null = torch.nn.Parameter(torch.tensor(first), requires_grad=bool(args.null))
    steps = (len(train) + args.per_step - 1) // args.per_step
    groups = [{"params": params}] + ([{"params": [null], "lr": 50 * args.lr, "weight_decay": 0.0}] if args.null else [])
    opt = torch.optim.AdamW(groups, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / steps))
    print(f"{len(train)} questions, {steps} steps, {sum(p.numel() for p in params):,} trained parameters "
          f"({time.time() - t0:.0f} s to prepare)", flush=True)
    model.train()
    losses, hits = [], []
    for step in range(steps):
        group = train[step * args.per_step : (step + 1) * args.per_step]
        scores = (context_logits if args.context else pair_logits)(model, head, tok, f, group, args.max_tokens)
        loss = 0.0
        for (q, cands, pos, ans), s in zip(group, scores):
            s = s + weight * ans
            s = torch.cat([s, null[None]]) if args.null else s
            loss = loss + F.cross_entropy(s[None], torch.tensor([pos]))
            hits.append(int(s.argmax()) == pos)
        losses.append(optimise(loss / len(group), opt, sched, params))
        if (step + 1) % 100 == 0:
            save(model, head, args, weight, null)  # a usable artefact if the run is cut short
        if (step + 1) % 25 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps}  loss {np.mean(losses[-100:]):.3f}  train top-1 {np.mean(hits[-400:]):.3f}  "
                  f"{time.time() - t0:.0f} s", flush=True)
    save(model, head, args, weight, null)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
