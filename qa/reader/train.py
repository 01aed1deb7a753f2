"""Train the reader: ``python -m qa.reader.train`` writes qa/reader/reader.npz (0.7 MB).

284 steps of 4 questions x 6 candidates. Cost: 5 s a step on the 2 cores with one other job beside it
(about 25 minutes); the packaged artefact took 70 minutes with three other jobs on the cores.

Train-split articles only (``data.examples("train")``): a sample of PIAF and SQuAD questions and every
Paris Call question, each with its positive sentence and up to ``candidates - 1`` negatives (its
paragraph's other sentences first, then hard negatives from the article's other paragraphs). Loss:
softmax cross-entropy over each question's candidates (listwise). What is trained: a LoRA update of
every linear layer of the first ``layers`` e5 layers, their biases and LayerNorms, and a linear head
on the mean-pooled output. Deterministic for a given seed and thread count.
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, weights
from .encoder import Encoder, batch
from .model import ARTEFACT, pair_ids


def sample(items: list[data.Item], n: int, candidates: int, rng: random.Random) -> list[tuple[str, list[str], int]]:
    """(question, candidates, index of the positive): n of the PIAF/SQuAD items, all Paris Call ones."""
    paris = [i for i in items if i.source.startswith("paris")]
    rest = [i for i in items if not i.source.startswith("paris")]
    chosen = rng.sample(rest, min(n, len(rest))) + paris
    rng.shuffle(chosen)
    out = []
    for it in chosen:
        own = [s for j, s in enumerate(it.sentences[: it.paragraph]) if j != it.positive]
        hard = list(it.sentences[it.paragraph :])
        rng.shuffle(own)
        negs = (own + hard)[: candidates - 1]
        cands = negs + [it.sentences[it.positive]]
        rng.shuffle(cands)
        out.append((it.question, cands, cands.index(it.sentences[it.positive])))
    return out


def save(model: Encoder, head: torch.nn.Linear, args) -> None:
    delta = model.delta()
    delta.update({"head.w": head.weight.detach().numpy()[0], "head.b": np.float32(head.bias.item()),
                  "layers": np.int32(args.layers), "lora_scale": np.float32(model.scale),
                  "max_tokens": np.int32(128), "max_query_tokens": np.int32(48)})
    weights.save(args.out, delta)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=1000, help="PIAF + SQuAD questions sampled (Paris Call: all)")
    ap.add_argument("--candidates", type=int, default=6, help="sentences per question (1 positive)")
    ap.add_argument("--layers", type=int, default=6, help="e5 layers kept (of 12)")
    ap.add_argument("--frozen", type=int, default=3, help="bottom layers left as they are (the top ones get LoRA)")
    ap.add_argument("--rank", type=int, default=16, help="LoRA rank")
    ap.add_argument("--per-step", type=int, default=4, help="questions per optimiser step")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ARTEFACT)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    t0 = time.time()
    train = sample(data.examples("train"), args.questions, args.candidates, rng)
    f, tok = weights.e5file(), weights.tokenizer()
    model = Encoder(args.layers, rank=args.rank, scale=32 / args.rank, frozen=args.frozen)
    head = torch.nn.Linear(f.hidden, 1)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    steps = (len(train) + args.per_step - 1) // args.per_step
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50) * max(0.05, 1 - s / steps))
    print(f"{len(train)} questions, {steps} steps, {sum(p.numel() for p in params):,} trained parameters "
          f"({time.time() - t0:.0f} s to prepare)", flush=True)
    model.train()
    losses, hits = [], []
    for step in range(steps):
        group = train[step * args.per_step : (step + 1) * args.per_step]
        ids, owners = [], []
        for qi, (q, cands, _) in enumerate(group):
            ids += pair_ids(tok, f, q, cands)
            owners += [qi] * len(cands)
        with torch.autocast("cpu", dtype=torch.bfloat16):  # 1.4x faster here (AVX512-BF16); weights stay fp32
            pooled = model(*batch(ids))
        scores = head(F.dropout(pooled.float(), 0.1)).squeeze(-1)
        loss, at = 0.0, 0
        for q, cands, pos in group:
            s = scores[at : at + len(cands)]
            loss = loss + F.cross_entropy(s[None], torch.tensor([pos]))
            hits.append(int(s.argmax()) == pos)
            at += len(cands)
        loss = loss / len(group)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if (step + 1) % 100 == 0:
            save(model, head, args)  # a usable artefact if the run is cut short
        if (step + 1) % 25 == 0 or step + 1 == steps:
            print(f"step {step + 1}/{steps}  loss {np.mean(losses[-100:]):.3f}  train top-1 {np.mean(hits[-400:]):.3f}  "
                  f"{time.time() - t0:.0f} s", flush=True)
    save(model, head, args)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
