"""The vector side: a Chroma collection, embedded on disk or on a Chroma server.

Chroma result dicts stay in this module; callers get (chunk id, cosine similarity) pairs.
Any failure to reach or use Chroma becomes a StoreError naming the folder or URL.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from qa.errors import StoreError


def collection_name(embedder: str) -> str:
    """One collection per embedder, so vectors of different models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", embedder).strip("-._")[:40] or "model"
    return f"chunks-{slug}"


class VectorStore:
    def __init__(self, folder: Path, embedder: str, url: str = ""):
        self.where = url or str(folder)
        with self._errors("open"):
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            settings = ChromaSettings(anonymized_telemetry=False)
            if url:
                u = urlparse(url)
                self._client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                                   ssl=u.scheme == "https", settings=settings)
            else:
                folder.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(folder), settings=settings)
            self._name = collection_name(embedder)
            self._col = self._client.get_or_create_collection(
                self._name, metadata={"hnsw:space": "cosine"}, embedding_function=None)

    @contextmanager
    def _errors(self, action: str):
        try:
            yield
        except StoreError:
            raise
        except Exception as e:  # chromadb raises many types (ConnectionError, httpx errors, its own)
            kind = "Chroma server at" if self.where.startswith("http") else "Chroma store in"
            hint = " Is the server running (chroma run --path DIR --port N)?" if self.where.startswith("http") else ""
            raise StoreError(f"cannot {action} the {kind} {self.where}: {type(e).__name__}: {e}.{hint}") from e

    def upsert(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:
        with self._errors("write to"):
            for i in range(0, len(ids), 1000):
                self._col.upsert(ids=ids[i : i + 1000], embeddings=vectors[i : i + 1000].tolist(),
                                 metadatas=metadatas[i : i + 1000])

    def delete(self, ids: list[str]) -> None:
        with self._errors("delete from"):
            for i in range(0, len(ids), 1000):
                self._col.delete(ids=ids[i : i + 1000])

    def existing(self, ids: list[str]) -> set[str]:
        with self._errors("read"):
            out: set[str] = set()
            for i in range(0, len(ids), 1000):
                out.update(self._col.get(ids=ids[i : i + 1000], include=[])["ids"])
            return out

    def query(self, vector: np.ndarray, n: int, where: dict | None = None) -> list[tuple[str, float]]:
        with self._errors("query"):
            n = min(n, self.count())
            if n <= 0:
                return []
            r = self._col.query(query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"])
            return [(cid, 1.0 - float(d)) for cid, d in zip(r["ids"][0], r["distances"][0])]

    def count(self) -> int:
        with self._errors("read"):
            return self._col.count()

    def heartbeat(self) -> None:
        with self._errors("reach"):
            self._client.heartbeat()
