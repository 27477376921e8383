# The two commands of the README:
#   make lab    installs what the lab needs, then opens JupyterLab on notebooks/quickstart.ipynb
#   make test   installs the rest too (Chromium included), then runs lint, types and every test
# Everything lives in .venv; nothing is installed into the system Python.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LAB_STAMP := $(VENV)/.lab-installed-stamp
# Root installs with apt-get directly; otherwise through sudo when it is there.
SUDO   := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo)
# JupyterLab refuses to start as root (containers, CI machines) unless told it may.
LAB_ROOT := $(shell [ "$$(id -u)" -eq 0 ] && echo --allow-root)

.PHONY: lab test lint unit integration kernel browser benchmark simulator chromium clean

# The lab needs the package and JupyterLab only; the test tools come with `make test`.
$(LAB_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	touch $@

$(STAMP): $(LAB_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "warning: could not install chromium; browser tests will skip (outside CI)"

lab: $(LAB_STAMP)
	$(BIN)/jupyter lab $(LAB_ROOT) notebooks/quickstart.ipynb

test: $(STAMP) chromium lint
	$(BIN)/python -m pytest

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

kernel: $(STAMP)
	$(BIN)/python -m pytest tests/kernel

browser: $(STAMP) chromium
	$(BIN)/python -m pytest tests/browser

benchmark: $(STAMP)
	$(BIN)/python -m benchmarks

simulator: $(STAMP)
	$(BIN)/python -m mountsea_widgets.simulator --port 8000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
