# Two commands do all set-up on a fresh machine:
#   make lab    create .venv, install the course, start JupyterLab on notebooks/
#   make test   create .venv, install the course and its test tools, run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-fast test-colab bench execute clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)"
	touch $(STAMP)

# As root (a container, a cloud VM) Jupyter refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Everything: unit, property and widget tests, then every notebook through nbval.
test: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

# The unit tests alone, without the slow ones: for a quick check while editing.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not slow" -q

# The versions Google Colab ships (ipywidgets 7, older IPython and Jupyter client): the widget tests and
# every notebook run there too, so a change that only works with ipywidgets 8 fails here first.
COLAB_VENV := .venv-colab
COLAB_PINS := ipywidgets==7.7.1 ipykernel==6.17.1 ipython==7.34.0 jupyter_client==7.4.9 traitlets==5.7.1 \
              matplotlib==3.10.0 numpy==2.1.3 opencv-python-headless==5.0.0.93

$(COLAB_VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install $(COLAB_PINS) tqdm threadpoolctl pytest hypothesis nbval
	$(COLAB_VENV)/bin/python -m pip install --no-deps -e .
	$(COLAB_VENV)/bin/python -m ipykernel install --sys-prefix --name python3
	touch $@

test-colab: $(COLAB_VENV)/.installed
	$(COLAB_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_widgets_*.py \
		--nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg notebooks

# Speed, measured side by side in one run: the convolution core, then a training step (against PyTorch
# on the CPU when it is installed: pip install torch).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench; $(BIN)/python -m benchmarks.bench_training

# Re-run every notebook top to bottom in a fresh kernel and store its outputs (do this after editing one).
execute: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb

clean:
	rm -rf $(VENV) $(COLAB_VENV) .pytest_cache .hypothesis
