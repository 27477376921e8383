# The two commands of the README:
#   make lab    installs what the lab needs, then opens JupyterLab on notebooks/quickstart.ipynb
#   make test   installs the rest too (Chromium included), then runs lint, types and every test,
#               then the unit and integration tests again with the lowest versions pyproject
#               allows (make lowest, in .venv-lowest)
# Everything lives in .venv; nothing is installed into the system Python.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LAB_STAMP := $(VENV)/.lab-installed-stamp
# JupyterLab and Notebook 7 read the lab settings of their environment from here: widget state
# saved with the notebook (so a reopened notebook shows its views). The browser tests' servers
# run from the same venv, so they use exactly these settings.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# Root installs with apt-get directly; otherwise through sudo when it is there.
SUDO   := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo)
# JupyterLab refuses to start as root (containers, CI machines) unless told it may.
LAB_ROOT := $(shell [ "$$(id -u)" -eq 0 ] && echo --allow-root)

# The lowest versions: a venv of their own, the oldest Python pyproject allows when this
# machine has it (python3.10 on the PATH or under pyenv), else $(PYTHON).
LOWEST := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed-stamp
LOWEST_PYTHON ?= $(firstword $(foreach p,python3.10 $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10),$(shell $(p) -c "" >/dev/null 2>&1 && echo $(p))) $(PYTHON))

.PHONY: lab lab-settings test lint unit integration lowest kernel browser benchmark simulator chromium clean

# The lab needs the package and JupyterLab only; the test tools come with `make test`.
$(LAB_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

$(LAB_SETTINGS): jupyter/overrides.json $(LAB_STAMP)
	mkdir -p $(dir $@)
	cp jupyter/overrides.json $@

lab-settings: $(LAB_SETTINGS)

$(STAMP): $(LAB_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; browser tests will skip (outside CI)"

lab: $(LAB_STAMP) $(LAB_SETTINGS)
	$(BIN)/jupyter lab $(LAB_ROOT) notebooks/quickstart.ipynb

# Two workers (the machine's two cores; a test file stays on one worker, so its servers are
# started once). Tests wait for events, never for time, so sharing the cores changes nothing.
PYTEST_WORKERS ?= -n 2 --dist loadfile

test: $(STAMP) $(LAB_SETTINGS) chromium lint
	$(BIN)/python -m pytest $(PYTEST_WORKERS)
	$(MAKE) lowest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

# The tests that talk to real HTTP servers on loopback (the simulator, hostile servers).
integration: $(STAMP)
	$(BIN)/python -m pytest tests/integration

# uv picks the lowest version of each direct requirement (the package's own and the test
# extra's); what they pull in comes at its newest, as for anyone installing the package.
$(LOWEST_STAMP): pyproject.toml
	rm -rf $(LOWEST)
	$(LOWEST_PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet uv
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python \
	  --resolution lowest-direct -e '.[test]'
	touch $@

# The unit and integration tests with the lowest versions pyproject allows.
lowest: $(LOWEST_STAMP)
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider $(PYTEST_WORKERS) tests/unit tests/integration

kernel: $(STAMP)
	$(BIN)/python -m pytest tests/kernel

browser: $(STAMP) $(LAB_SETTINGS) chromium
	$(BIN)/python -m pytest tests/browser

benchmark: $(STAMP) $(LAB_SETTINGS) chromium
	$(BIN)/python -m benchmarks

simulator: $(STAMP)
	$(BIN)/python -m mountsea_widgets.simulator --port 8000

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache
