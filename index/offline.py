"""The one place that changes the process environment: offline by design.

Nothing may be fetched from a model hub and no telemetry leaves the machine. These variables must be
set before sentence-transformers, transformers, Chroma or Gradio are imported, so ``index.embedders``
and ``index.store`` import this module first, and so do ``qa`` and ``app``. Each is only a default
(``setdefault``): a user's own value wins. No other module of ours touches ``os.environ``.
"""
import os

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
    # Gradio's queue rebuilds a pandas table of its last 10,000 events after every event, for a monitoring
    # dashboard we do not use: 9 ms per answer at first, 28 ms once 10,000 answers are kept (more than our
    # own ask), and memory that grows with them. Keep 100 events and summarise them once in a million.
    "GRADIO_ANALYTICS_MAX_EVENTS": "100",
    "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000000",
    # Gradio switches matplotlib's backend around every event; named here, matplotlib need not load pyplot
    # to find out which it is (150 ms and ~30 MB on the first answer)
    "MPLBACKEND": "agg",
}
for _name, _value in OFFLINE.items():
    os.environ.setdefault(_name, _value)
