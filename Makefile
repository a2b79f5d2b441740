# The two commands a newcomer types: `make demo` and `make test`. Both set themselves up.
VENV ?= .venv
PY := $(VENV)/bin/python
# On machines without internet, the official models may sit beside the checkout (as in CI).
SHARED_MODELS := $(abspath ../shared/models)
MODELS_ENV := $(if $(TINYPERF_MODELS),$(TINYPERF_MODELS),$(if $(wildcard $(SHARED_MODELS)/*.tflite),$(SHARED_MODELS),))

.PHONY: demo test lint install clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	TINYPERF_MODELS="$(MODELS_ENV)" $(VENV)/bin/tinyperf demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check host tests benchmarks

test: lint
	TINYPERF_MODELS="$(MODELS_ENV)" $(PY) -m pytest

clean:
	rm -rf $(VENV) sessions .pytest_cache .ruff_cache
