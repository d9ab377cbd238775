# Two commands do all set-up on a fresh machine:
#   make lab    create .venv, install the course, start JupyterLab on notebooks/
#   make test   create .venv, install the course and its test tools, run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-fast bench execute clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Everything: unit, property and widget tests, then every notebook through nbval.
test: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

# The unit tests alone, without the slow ones: for a quick check while editing.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow" -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench

# Re-run every notebook top to bottom in a fresh kernel and store its outputs (do this after editing one).
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
