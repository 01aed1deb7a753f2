"""Our retrieval as a llama-index retriever, for notebook users' own pipelines (`Index.as_retriever()`).

    >>> from qa import Index
    >>> from llama_index.core.query_engine import RetrieverQueryEngine
    >>> retriever = Index("~/my-qa").as_retriever(k=3)      # after idx.add(["seeds"])
    >>> n = retriever.retrieve("Qui a présidé le Groupe de travail ?")[0]
    >>> n.node.metadata["file_name"], n.node.metadata["lang"], n.node.metadata["where"], round(n.score, 2)
    ('004_48194a700c52b088.txt', 'fr', 'lines 32–34', 3.39)
    >>> engine = RetrieverQueryEngine.from_args(retriever, llm=my_llm)   # any llama-index LLM

This is the one place a `Passage` becomes a llama-index node (`to_node`); llama-index is imported only
here, and only when a retriever is asked for, so answering a question never loads it.
"""
from __future__ import annotations

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeRelationship, NodeWithScore, QueryBundle, RelatedNodeInfo, TextNode

from index.types import Passage

# what a node's LLM prompt shows of its metadata: where the text is from, not offsets or ids
HIDDEN_FROM_LLM = ["source", "start", "end", "line_start", "line_end", "twin"]


def to_node(p: Passage) -> NodeWithScore:
    """The passage as a llama-index node: its verbatim text, its id, its offsets (also as the node's
    start/end_char_idx), and in `metadata` the file (`source`, `file_name`), `lang`, `start`, `end`,
    `line_start`, `line_end`, `where` and, when the passage has one, `title`; the fused score."""
    meta = {"source": p.source, "file_name": p.name, "lang": p.lang, "start": p.start, "end": p.end,
            "line_start": p.lines[0], "line_end": p.lines[1], "where": p.location}
    if p.title:  # its document's title
        meta["title"] = p.title
    if p.twin:
        meta["twin"] = p.twin  # the id of its indexed translation
    node = TextNode(id_=p.id or f"{p.source}:{p.start}", text=p.text, metadata=meta,
                    start_char_idx=p.start, end_char_idx=p.end,
                    excluded_llm_metadata_keys=[k for k in HIDDEN_FROM_LLM if k in meta],
                    excluded_embed_metadata_keys=list(meta),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=p.source)})
    return NodeWithScore(node=node, score=p.score)


class QARetriever(BaseRetriever):
    """`Index.retrieve` (dense + BM25 fused, one language per passage) behind llama-index's retriever
    interface: `retrieve(str | QueryBundle) -> list[NodeWithScore]`, best first."""

    def __init__(self, index, k: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self._index = index
        self._k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [to_node(p) for p in self._index.retrieve(query_bundle.query_str, self._k)]
