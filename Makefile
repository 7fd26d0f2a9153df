# Live Transcriber — the two commands most people need:
#   make run    set everything up and launch the app
#   make test   set everything up and run every check (ruff, mypy, import contracts, pytest)
.PHONY: run test setup setup-test lint typecheck contracts pytest emulator clean

VENV := .venv
PY := $(VENV)/bin/python

run: setup
	$(PY) -m app.main $(ARGS)

test: setup-test
	scripts/run-checks.sh

setup:
	scripts/bootstrap.sh run

setup-test:
	scripts/bootstrap.sh test

lint: setup-test
	$(VENV)/bin/ruff check .

typecheck: setup-test
	$(VENV)/bin/mypy

contracts: setup-test
	$(VENV)/bin/lint-imports

pytest: setup-test
	$(VENV)/bin/pytest $(ARGS)

# A local AssemblyAI-compatible server for trying the app without a real key.
emulator: setup-test
	$(PY) -m tests.emulator --port 8765 --api-key local-dev-key $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache

# Packaging (packaging/README.md): a one-folder PyInstaller bundle in dist/live-transcriber/,
# which packaging/install.sh installs as a desktop app; and the install check of the bundle.
.PHONY: package selftest
PYINSTALLER := pyinstaller==6.22.3

package: setup
	$(VENV)/bin/pip install -q -c requirements/constraints.txt "$(PYINSTALLER)"
	$(VENV)/bin/pyinstaller --noconfirm --clean packaging/live-transcriber.spec
	dist/live-transcriber/live-transcriber --self-test 2>/dev/null
	@$(PY) -m benchmarks.bench_bundle --no-save    # its size, by part, against main before the cuts

selftest: setup
	$(PY) -m app.main --self-test

# Benchmarks (docs/benchmarks.md): every benchmark in full against the local emulator, results
# as JSON + PNG under benchmarks/results/, then docs/benchmarks.md regenerated from the newest.
# `make bench ARGS=--smoke` runs the short versions; ARGS="--only launch,soak" picks some.
.PHONY: bench
bench: setup-test
	$(VENV)/bin/pip install -q -c requirements/constraints.txt -e ".[dev,bench,package]"
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks.run_all $(ARGS)
