# Everything a fresh clone needs: `make demo` runs the main job, `make test` the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test demo lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# compat: a plain .pth entry; the default editable finder costs 15 ms a command
	$(BIN)/pip install -q -e '.[test,lint,cn]' --config-settings editable_mode=compat
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/pytest

demo: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bash examples/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check casectl tests bench
	$(BIN)/ruff format --check casectl tests bench
	$(BIN)/mypy casectl

bench: $(STAMP)
	# what a user's install has: compiled modules (an editable install writes none)
	$(BIN)/python -m compileall -q casectl
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info
