# One command per gate. Every target creates the virtualenv it needs.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test goldens bench mutants demo docs clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# What the tool needs at run time only (no test or lint tools): what `make demo` installs.
RUN_STAMP := $(VENV)/.installed-run
$(RUN_STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $(RUN_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP)
	$(BIN)/pytest -n 2 -q

# Rewrites every golden file from the current code (report scans and renderings, the scan
# schema, export snapshots), then shows what changed: review that diff and commit it.
goldens: $(STAMP)
	APPVETO_UPDATE_GOLDEN=1 $(BIN)/pytest -q -p no:cacheprovider tests/report/test_golden.py \
		tests/report/test_json_report.py::test_schema_is_shipped_and_stable tests/export/test_golden.py
	git status --short -- tests/report/golden tests/export/golden
	git diff --stat -- tests/report/golden tests/export/golden

bench: $(STAMP)
	# compiled bytecode, as a pip-installed package has (androguard's has it too)
	$(BIN)/python -m compileall -q src
	$(BIN)/python bench/run.py

# Mutation testing (mutmut) of the modules where a silent bug costs most; not in CI (slow).
# GROUPS="reader archive" to run some of them; see tools/mutants.py.
mutants: $(STAMP)
	$(BIN)/pip install -q -e '.[mutants]'
	$(BIN)/python tools/mutants.py --max-children 2 $(GROUPS)

# Builds its own sample APKs and uses the example policies shipped in the package.
demo: $(RUN_STAMP)
	rm -rf demo-out
	$(BIN)/appveto demo --output demo-out

docs: $(STAMP)
	$(BIN)/python -m appveto.cli.main checks docs --output docs/checks

clean:
	rm -rf $(VENV) build dist demo-out bench-out .mypy_cache .ruff_cache .pytest_cache
