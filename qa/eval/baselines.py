"""Baselines that `qa eval` runs beside our retrieval, with the same embedder and the same files.

    bm25              our BM25 alone, over our chunks (no dense side, no fusion)
    dense             our Chroma vectors alone, over our chunks (no BM25, no fusion)
    llama-index-1024  the plain llama-index recipe: SimpleDirectoryReader -> SentenceSplitter at its
                      defaults (1024 tokens, overlap 200) -> VectorStoreIndex over a Chroma collection ->
                      top-k retriever
    llama-index-256   the same recipe at 256 tokens, overlap 32: passages nearer the size we show
                      (RECIPES: the two `qa eval` runs)

Each is one small class with ``retrieve(question, k) -> list[Passage]``, as ``Index`` has, so the harness
scores every system the same way. llama-index nodes become ``Passage`` here and go no further. A node
has no language tag of its own: it gets the one the detector gives its whole text, so a node that spans
both halves of a bilingual file counts as whichever language most of it is in.

    >>> from qa import Index
    >>> idx = Index("/tmp/eval-home"); idx.add(["seeds"])
    >>> LlamaIndexRecipe(["seeds"], idx.collection.embedder, "/tmp/eval-home/llamaindex").retrieve("Qui présidait le GTGI ?", 5)
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from index.chunker import clean
from index.embedders import Embedder
from index.lang import detect_supported

from ..errors import ConfigError, MissingDependencyError
from ..types import Passage

RECIPES = ((256, 32), (1024, 200))  # (chunk_size, chunk_overlap) in tokens of the llama-index runs


class BM25Only:
    """Our BM25 over our chunks, without the dense side or the fusion."""

    name = "bm25"

    def __init__(self, collection):
        self.collection = collection

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.collection.lexical_search(question, k)


class DenseOnly:
    """Our Chroma vectors over our chunks, without BM25 or the fusion."""

    name = "dense"

    def __init__(self, collection):
        self.collection = collection

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.collection.dense_search(question, k)


def llama_embedding(embedder: Embedder, batch: int = 32):
    """Our embedder as a llama-index ``BaseEmbedding``: queries embedded as "query", nodes as "passage"."""
    try:
        from llama_index.core.base.embeddings.base import BaseEmbedding
        from pydantic import PrivateAttr
    except ImportError as e:
        raise MissingDependencyError("the llama-index baseline needs llama-index-core: "
                                     "pip install 'llama-index-core>=0.14,<0.15'") from e

    class OurEmbedding(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner: Embedder, **kw):
            super().__init__(model_name=inner.name, embed_batch_size=batch, **kw)
            self._inner = inner

        def _vectors(self, texts: list[str], kind: str) -> list[list[float]]:
            return self._inner.embed([clean(t) for t in texts], kind).tolist()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._vectors([query], "query")[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._vectors([text], "passage")[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._vectors(texts, "passage")

    return OurEmbedding(embedder)


class LlamaIndexRecipe:
    """The tutorial pipeline in its own Chroma folder (rebuilt at each construction); every default
    kept but the splitter's chunk size and overlap (tokens; llama-index's defaults: 1024, 200)."""

    def __init__(self, paths: list[str | Path], embedder: Embedder, folder: str | Path, chunk_size: int = 1024,
                 chunk_overlap: int = 200):
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ConfigError(f"chunk_size must be greater than 0. Currently, chunk_size is {chunk_size!r}")
        if not isinstance(chunk_overlap, int) or not 0 <= chunk_overlap < chunk_size:
            raise ConfigError(f"chunk_overlap must be at least 0 and under chunk_size ({chunk_size}). "
                              f"Currently, chunk_overlap is {chunk_overlap!r}")
        self.name = f"llama-index-{chunk_size}"
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings
            from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
            from llama_index.core.node_parser import SentenceSplitter
            from llama_index.vector_stores.chroma import ChromaVectorStore
        except ImportError as e:
            raise MissingDependencyError("the llama-index baseline needs llama-index-vector-stores-chroma: "
                                         "pip install 'llama-index-vector-stores-chroma>=0.6,<0.7'") from e
        folder = Path(folder)
        shutil.rmtree(folder, ignore_errors=True)  # a fresh collection each run; embeddings are cached
        folder.mkdir(parents=True)
        files = [Path(p) for p in paths if Path(p).is_file()]
        dirs = [Path(p) for p in paths if Path(p).is_dir()]
        docs = []
        for d in dirs:
            docs += SimpleDirectoryReader(input_dir=str(d), recursive=True, required_exts=[".txt", ".md"]).load_data()
        if files:
            docs += SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
        client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
        store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
        embed_model = llama_embedding(embedder)
        self.index = VectorStoreIndex.from_documents(
            docs, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed_model,
            transformations=[SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)])
        self.n_documents, self.n_nodes = len(docs), client.get_collection("baseline").count()
        self._retrievers: dict[int, Any] = {}

    def retrieve(self, question: str, k: int) -> list[Passage]:
        if k not in self._retrievers:
            self._retrievers[k] = self.index.as_retriever(similarity_top_k=k)
        out = []
        for hit in self._retrievers[k].retrieve(question):
            node, meta = hit.node, hit.node.metadata
            text = node.get_content()
            start = node.start_char_idx or 0
            out.append(Passage(text, meta.get("file_path", ""), detect_supported(text), round(hit.score or 0.0, 6),
                               start, node.end_char_idx or start + len(text), (0, 0), node.node_id))
        return out
