# Everything a fresh clone needs: `make demo` runs the main job, `make test` the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test quick demo lint docs bench clean messages mo browser tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# compat: a plain .pth entry; the default editable finder costs 15 ms a command
	$(BIN)/pip install -q -e '.[test,lint,cn,docs]' --config-settings editable_mode=compat
	# the top level is an example case repository: its clone gets the merge driver too
	-test -d .git && $(BIN)/casectl --repo . setup-git >/dev/null
	-@$(MAKE) --no-print-directory tools
	touch $(STAMP)

# The report's screenshot tests need headless Chromium and a CJK font: installed with
# apt-get where make runs as root on Debian or Ubuntu (CI); elsewhere they skip, saying so.
BROWSER_PACKAGES := chromium fonts-noto-cjk
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && \
	      apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1; }; }; } || \
	echo "chromium is not installed (apt-get install $(BROWSER_PACKAGES)): the report's screenshot tests skip"

# The real net-snmp snmptrapd and snmptrap the intake tests drive (Debian's snmptrapd and
# snmp packages): installed quietly where we are root with apt-get; else the tests skip
# and say how to install them.
tools:
	@test -x /usr/sbin/snmptrapd -a -x /usr/bin/snmptrap || { \
	  test "$$(id -u)" = 0 && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq snmptrapd snmp) \
	    >/dev/null 2>&1; } || echo "snmptrapd not installed: the intake tests that need it skip"

# LANG=C: the tests assert English messages, whatever language the shell speaks
test: $(STAMP) browser tools
	LANG=C LC_ALL= LC_MESSAGES= LANGUAGE= $(BIN)/pytest

# While iterating: every test not marked slow, in under a minute (`make test` runs them all)
quick: $(STAMP)
	LANG=C LC_ALL= LC_MESSAGES= LANGUAGE= $(BIN)/pytest -m "not slow"

demo: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bash examples/demo.sh

lint: $(STAMP)
	$(BIN)/ruff check casectl tests bench
	$(BIN)/ruff format --check casectl tests bench
	$(BIN)/mypy casectl

# The manual (docs/): every command's --help regenerated into docs/commands.md by cog (in
# English, whatever the shell speaks), then the site built by MkDocs into build/site;
# --strict: a broken link or #anchor fails. `make test` fails while commands.md is stale.
docs: $(STAMP)
	LANG=C LC_ALL= LC_MESSAGES= LANGUAGE= $(BIN)/cog -r docs/commands.md
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	# what a user's install has: compiled modules (an editable install writes none)
	$(BIN)/python -m compileall -q casectl
	$(BIN)/python bench/run.py
	# issue 26: the board against a warm list; issue 25: intake of 1,000 alerts
	cd bench && ../$(BIN)/python board.py
	$(BIN)/python bench/intake.py
	# issue 29: .git bytes per committed step on a day folder of 5,000 cases
	$(BIN)/python bench/gitbytes.py

# Translations (Babel, a development tool; casectl reads the .mo with the stdlib's gettext).
# `make messages` extracts every marked string and click help text into build/casectl.pot
# and merges it into the zh_CN .po (new entries empty, gone ones dropped): translate
# them, then `make mo` compiles the .mo that is committed beside it (tests/i18n/test_i18n.py
# fails while any entry is untranslated, stale, or the .mo differs from the .po).
LOCALE := casectl/locale
EXTRACT := -F $(LOCALE)/babel.cfg -k N_ -k Np_:1,2 -k Nc_:1c,2 --no-location --sort-output

messages: $(STAMP)
	mkdir -p build
	$(BIN)/pybabel extract $(EXTRACT) -o build/casectl.pot casectl
	$(BIN)/pybabel update -i build/casectl.pot -d $(LOCALE) -D casectl -l zh_CN \
		--no-fuzzy-matching --ignore-obsolete -w 100 --ignore-pot-creation-date

mo: $(STAMP)
	$(BIN)/pybabel compile -d $(LOCALE) -D casectl -l zh_CN --statistics

clean:
	rm -rf $(VENV) build dist *.egg-info
