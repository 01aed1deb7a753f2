"""Speed and scale benchmark: ingest, query latency, cold start and memory, ours beside the plain
llama-index recipe, at several corpus sizes; and the web app under concurrent load.

    python -m bench.run --sizes 1000,10000 --embedder e5-small --out bench/results
    python -m bench.load --seconds 60 --clients 16 --concurrency 1,2,4,8

Modules: ``corpus`` writes the test corpus (PIAF paragraphs + UN dev-set sentences) and picks the
questions; ``workers`` holds what runs in a fresh subprocess (one per measurement, so peak memory and
cold start belong to that measurement alone); ``run`` drives them and ``report`` writes the JSON, the
markdown table and the plot; ``load`` is the web app under concurrent gradio_client sessions.
See bench/README.md.
"""
