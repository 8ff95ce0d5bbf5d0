# qa: two commands.  `make run` opens the chat page, `make test` runs every test.
# Both set up everything from nothing: a virtual environment in .venv, the CPU build
# of PyTorch (pinned: an unpinned torch pulls a multi-GB CUDA build), and the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: run test install index browser bench load screenshot mutants clean

run: index
	$(BIN)/qa serve

test: install browser
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Builds the index from seeds/ when it is missing, re-indexes it when it was built with
# other settings, and adds seed files that are new; unchanged documents are skipped.
index: install
	$(BIN)/qa index seeds

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

bench: install
	$(BIN)/python benchmarks/bench.py

load: install
	$(BIN)/python benchmarks/load.py

screenshot: install browser
	$(BIN)/python benchmarks/screenshot.py

# Mutation testing (mutmut) of the modules that decide what a user sees, module by module, one
# test process at a time; prints killed/total per module (scripts/mutation_report.py).
# `make mutants MODULES="render answer"` runs only those.
mutants: install
	$(BIN)/python scripts/mutation_report.py --run $(MODULES)

clean:
	rm -rf $(VENV) index/CURRENT index/gen-* .pytest_cache mutants
