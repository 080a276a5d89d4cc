# simlab: one-command setup, lab and tests.
# Every target uses the venv's own python ($(PY)); nothing needs `source .venv/bin/activate`.

SHELL    := /bin/bash
PYTHON   ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
STAMP    := $(VENV)/.simlab-installed
NOTEBOOK ?= notebooks/00_start_here.ipynb
CHROMIUM ?= /usr/bin/chromium
ARGS     ?=
# jupyter refuses to start as root without this flag.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Settings shipped with the venv (admin overrides, e.g. no news toast) ...
LAB_APP_SETTINGS := $(VENV)/share/jupyter/lab/settings
# ... and the presenter's user settings, kept out of the repo so UI changes do not dirty it.
PRESENTER_SETTINGS := $(VENV)/presenter-settings

# Notebook kernels inherit this: simlab.fonts.strict_glyphs_from_env() turns tofu into errors.
PYTEST := SIMLAB_STRICT_GLYPHS=1 $(PY) -m pytest

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv system-lab system-test lab lab-present classroom test test-ui bench clean distclean

help:
	@echo "make lab          set up .venv and open JupyterLab on $(NOTEBOOK) (ARGS='--no-browser ...')"
	@echo "make lab-present  the same with big fonts and the simple (single-document) interface"
	@echo "make test         set up .venv and run every test (pytest + notebooks + browser tests; as root installs the Debian packages)"
	@echo "make test-ui      only the browser tests in tests/ui (needs $(CHROMIUM))"
	@echo "make bench        run benchmarks/run.py"
	@echo "make classroom    as root: a JupyterHub for LEARNERS='ana ben' (or LEARNERS_FILE=f), TRAINER=t"
	@echo "                  CREATE_ACCOUNTS=1 HUB_IP=127.0.0.1 HUB_PORT=8000 (see README, A class)"
	@echo "make venv         only create/update .venv (pip install -e '.[lab,test,classroom]')"
	@echo "make system-lab   as root with apt: install the kernel backend's Debian packages (lab does it)"
	@echo "make system-test  the same plus chromium and fonts-noto-cjk for the browser tests (test does it)"
	@echo "make clean        remove caches and test artifacts (make distclean also removes .venv)"

# ---------------------------------------------------------------------------------------------
# The venv is rebuilt when pyproject.toml changes (stamp file) or when it is broken.
venv: $(STAMP)
	@mkdir -p $(LAB_APP_SETTINGS)
	@cp jupyter-settings/overrides.json $(LAB_APP_SETTINGS)/overrides.json

$(STAMP): pyproject.toml
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== $(PYTHON) has no venv/ensurepip module: installing python3-venv"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends python3-venv; \
	  else \
	    echo "error: '$(PYTHON) -m venv' does not work here." >&2; \
	    echo "       On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; \
	    exit 1; \
	  fi; \
	fi
	@if ! $(PY) -m pip --version >/dev/null 2>&1; then \
	  echo "== creating $(VENV) with $$($(PYTHON) --version)"; \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); \
	fi
	$(PY) -m pip install -e ".[lab,test,classroom]"
	@touch $@

# ---------------------------------------------------------------------------------------------
# The machine's own programs (simlab/system.py holds the list: iproute2, iptables,
# containernetworking-plugins; for tests also chromium and fonts-noto-cjk). As root with apt-get
# the missing ones are installed, and named; otherwise they are named with what goes without them.
# (-c, not -m: `import simlab` loads simlab.system first, and runpy would warn about that)
SYSTEM = @$(PYTHON) -c 'import sys, simlab.system as s; sys.exit(s.main(sys.argv[1:]))'

system-lab:
	$(SYSTEM) install lab

system-test:
	$(SYSTEM) install test

# ---------------------------------------------------------------------------------------------
# The server's root is the repository (notebooks and simlab's source side by side); the browser
# opens default_url, and the URL that jupyter prints goes straight to the notebook as well.
# (A notebook given as an argument would make its folder the root instead.)
LAB_FLAGS = $(ALLOW_ROOT) --ServerApp.root_dir=$(CURDIR)

lab: system-lab venv
	@$(PY) -m simlab doctor --lab-args="$(ARGS)"
	$(PY) -m jupyterlab $(LAB_FLAGS) --LabApp.default_url=/lab/tree/$(NOTEBOOK) $(ARGS)

lab-present: system-lab venv
	@mkdir -p $(PRESENTER_SETTINGS)
	@cp -R jupyter-settings/presenter/. $(PRESENTER_SETTINGS)/
	@$(PY) -m simlab doctor --lab-args="$(ARGS)"
	JUPYTERLAB_SETTINGS_DIR=$(abspath $(PRESENTER_SETTINGS)) \
	  $(PY) -m jupyterlab $(LAB_FLAGS) --LabApp.default_url=/doc/tree/$(NOTEBOOK) $(ARGS)

# ---------------------------------------------------------------------------------------------
# A class on this machine (simlab/classroom): JupyterHub as root, one server per learner, run in
# the foreground; Ctrl-C stops every server and the proxy.
LEARNERS        ?=
LEARNERS_FILE   ?=
TRAINER         ?= trainer
HUB_IP          ?= 127.0.0.1
HUB_PORT        ?= 8000
CLASS_DIR       ?= /var/lib/simlab-classroom
CREATE_ACCOUNTS ?=
CLASS_ARGS = $(LEARNERS) --trainer $(TRAINER) --ip $(HUB_IP) --port $(HUB_PORT) \
  --run-dir $(CLASS_DIR) $(if $(LEARNERS_FILE),--learners-file $(LEARNERS_FILE)) \
  $(if $(filter 1 yes true,$(CREATE_ACCOUNTS)),--create-accounts) $(ARGS)

classroom: system-lab venv
	$(PY) -m simlab classroom $(CLASS_ARGS)

# ---------------------------------------------------------------------------------------------
# run_pytest ARGS: pytest with its exit code kept in test-artifacts/pytest-exit-code
# (.ci/run passes it on; make itself can only exit 2). Exit 5 = no tests collected.
define run_pytest
	@mkdir -p test-artifacts && rm -f test-artifacts/pytest-exit-code
	@echo '$(PYTEST) $(1)'
	@rc=0; $(PYTEST) $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests ($(1))" >&2; fi; \
	if [ $$rc -ne 0 ]; then echo $$rc > test-artifacts/pytest-exit-code; fi; \
	exit $$rc
endef

# One pytest run for tests/ and notebooks/: tests/conftest.py (nbclient stall workaround)
# then also covers the notebooks that nbmake executes.
test: system-test venv
	$(call run_pytest,-n 2 -m "not ui" --nbmake --nbmake-timeout=120 tests notebooks)
	@if [ -x $(CHROMIUM) ]; then \
	  $(MAKE) --no-print-directory test-ui; \
	else \
	  echo "note: $(CHROMIUM) not found, browser tests not run (as root: make test installs it)"; \
	fi

test-ui: system-test venv
	$(call run_pytest,-m ui tests/ui)

bench: venv
	$(PY) benchmarks/run.py

# ---------------------------------------------------------------------------------------------
clean:
	rm -rf test-artifacts .pytest_cache .hypothesis .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
	  -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
