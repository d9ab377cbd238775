# Two commands do all set-up on a fresh machine:
#   make lab    create .venv, install the course (what a learner needs), start JupyterLab on notebooks/
#               (make lab COURSE_LANG=ja, zh or ru: the course and JupyterLab's menus in that language)
#   make test   create .venv, install the course and its test tools, run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: lab test test-fast test-colab bench execute clean

# One stamp per set of packages: `make lab` adds JupyterLab to the course (what
# a learner needs, no pytest, playwright or ruff); `make test` adds the test tools.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-lab: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -e ".[lab]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)"
	touch $@

# PyTorch is the reference some tests compare against (optimisers step by step, grouped convolution).
# Pinned, and from PyTorch's CPU index where it is reachable (asked once, 5 s at most, so that pip does
# not retry an unreachable index for every package): an unpinned `torch` from PyPI is a CUDA build of
# several GB. Not in pyproject's extras: a learner never needs it.
TORCH       := torch==2.13.0
TORCH_INDEX := https://download.pytorch.org/whl/cpu
$(VENV)/.installed-test: pyproject.toml Makefile $(VENV)/.installed-lab
	$(BIN)/python -m pip install -e ".[test]"
	if $(BIN)/python -c "import urllib.request as u; u.urlopen('$(TORCH_INDEX)/', timeout=5)" 2>/dev/null; \
	then $(BIN)/python -m pip install "$(TORCH)" --extra-index-url $(TORCH_INDEX); \
	else $(BIN)/python -m pip install "$(TORCH)"; fi
	touch $@

# `make lab COURSE_LANG=ja` (or zh, ru) opens the course in that language, notebooks/ja/, with JupyterLab's
# menus in it too: its language pack is installed once, and the interface language is a settings default
# for that run only (in $(VENV)/lab-ja/, put on JUPYTER_CONFIG_PATH; a language a learner picked in
# Settings > Language wins). The variable is not LANG: every shell sets LANG to its locale (en_US.UTF-8...),
# and make would take that for the course's language.
COURSE_LANG ?=
PACK_ja := ja-JP
PACK_zh := zh-CN
PACK_ru := ru-RU
ifneq ($(COURSE_LANG),)
ifeq ($(PACK_$(COURSE_LANG)),)
$(error COURSE_LANG=$(COURSE_LANG): the course is translated into ja, zh and ru (leave it out for English))
endif
endif

$(VENV)/.installed-lab-%: $(VENV)/.installed-lab
	$(BIN)/python -m pip install jupyterlab-language-pack-$(PACK_$*)
	mkdir -p $(VENV)/lab-$*/labconfig
	printf '{"@jupyterlab/translation-extension:plugin": {"locale": "%s"}}\n' $(subst -,_,$(PACK_$*)) \
		> $(VENV)/lab-$*/labconfig/default_setting_overrides.json
	touch $@

# As root (a container, a cloud VM) Jupyter refuses to start without --allow-root.
lab: $(VENV)/.installed-lab $(if $(COURSE_LANG),$(VENV)/.installed-lab-$(COURSE_LANG))
	$(if $(COURSE_LANG),JUPYTER_CONFIG_PATH="$(abspath $(VENV))/lab-$(COURSE_LANG)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}") \
	$(BIN)/jupyter lab notebooks/$(COURSE_LANG) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Everything: unit, property, widget and browser tests, then every notebook through nbval. Only nbval
# trains the networks (where the full dataset is found); the browser test loads the shipped weights.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg

# The unit tests alone, without the slow ones: for a quick check while editing.
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests -m "not slow" -q

# The versions Google Colab ships (ipywidgets 7, older IPython and Jupyter client): the widget tests and
# every notebook run there too, so a change that only works with ipywidgets 8 fails here first. The
# notebooks load the shipped weights (CNN_COURSE_TRAIN=0): `make test` already trained them once.
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
	CNN_COURSE_TRAIN=0 $(COLAB_VENV)/bin/python -m pytest -p no:cacheprovider tests/test_widgets_*.py \
		--nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg notebooks

# Speed, measured side by side: every benchmarks/bench*.py in turn (the convolution core against its
# loops and OpenCV, a training step against PyTorch on the CPU when it is installed: pip install torch,
# the explorers' redraws, each notebook's kernel peak memory, which runs the notebooks in Jupyter kernels:
# hence JupyterLab's packages). Every one runs even when another misses a target; the misses are listed at
# the end, and the exit status is non-zero if there was any.
# `make bench AGAINST=main` (any git revision) also times that revision's helpers beside this tree's, in the
# same rounds, in the benchmarks that take --against: more than 1.5x its time is a regression. That is the
# check for a change (the revision before it); a machine's absolute times drift too much to be one.
BENCHMARKS := $(sort $(basename $(notdir $(wildcard benchmarks/bench*.py))))
AGAINST    ?=

bench: $(VENV)/.installed-lab
	@missed=""; \
	for b in $(BENCHMARKS); do \
		echo; echo "=== benchmarks/$$b.py"; \
		args=""; \
		if [ -n "$(AGAINST)" ] && grep -q -- "--against" benchmarks/$$b.py; then args="--against $(AGAINST)"; fi; \
		$(BIN)/python -m benchmarks.$$b $$args || missed="$$missed benchmarks/$$b.py"; \
	done; \
	echo; \
	if [ -n "$$missed" ]; then echo "make bench: targets missed in:$$missed (details above)"; exit 1; fi; \
	echo "make bench: every benchmark met its targets ($(BENCHMARKS))"

# Re-run every notebook top to bottom in a fresh kernel and store its outputs (do this after editing one),
# then rewrite the translated notebooks (notebooks/ja/...: the English code cells and outputs, translated text).
execute: $(VENV)/.installed-test
	$(BIN)/python scripts/execute_notebooks.py notebooks/*.ipynb
	$(BIN)/python scripts/i18n.py build

clean:
	rm -rf $(VENV) $(COLAB_VENV) .pytest_cache .hypothesis
