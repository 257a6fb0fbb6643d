# Two commands do all the set-up: `make demo` and `make test`.
# Each (re)builds .venv from pyproject.toml when it is missing or older than pyproject.toml.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin
# checkov in a venv of its own: its bc-python-hcl2 overwrites python-hcl2's `hcl2` module (pyproject [checkov])
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: demo test bench clean fonts

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name sfnecs --display-name "Python (sfnecs)" >/dev/null
	touch $(STAMP)

$(CHECKOV_STAMP): pyproject.toml
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "$$($(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["checkov"])')"
	touch $(CHECKOV_STAMP)

# Japanese plot text needs a CJK font (sfnecs.i18n.fonts): Debian's fonts-noto-cjk, installed with apt when missing
# (as root or with passwordless sudo; the package index is updated only when the first try fails). Elsewhere
# install Noto Sans CJK JP by hand: tests/test_i18n.py fails without a CJK font, naming this target.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
APT_INSTALL := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fonts-noto-cjk
fonts:
	@if command -v apt-get >/dev/null && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
	  $(APT_INSTALL) || { $(SUDO) apt-get update -q && $(APT_INSTALL); } \
	  || echo "make: could not install fonts-noto-cjk: Japanese plot text will lack its glyphs" >&2; fi

demo: $(STAMP) fonts
	$(BIN)/python -m sfnecs.ops.demo

# two workers by default (CI machines have 2 cores; much of a test's time is spent waiting on the sandbox);
# a test file runs whole on one worker (lessons' cells in order, one sandbox per module). JOBS=0: no workers.
JOBS ?= 2
test: $(STAMP) $(CHECKOV_STAMP) fonts
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile

# every bench/*.py, one after another; writes BENCHMARKS.md (ratios against their goals, the fault matrix)
bench: $(STAMP)
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) runs test-artifacts
