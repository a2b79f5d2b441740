# The two commands a newcomer types: `make demo` and `make test`. Both set themselves up.
VENV ?= .venv
PY := $(VENV)/bin/python
# The official models: $TINYPERF_MODELS, else a folder beside the checkout (as in CI), else the project's
# own .cache/models, which `make models` fills from their public home when the network allows.
SHARED_MODELS := $(abspath ../shared/models)
PROJECT_MODELS := $(abspath .cache/models)
MODELS_ENV := $(if $(TINYPERF_MODELS),$(TINYPERF_MODELS),$(if $(wildcard $(SHARED_MODELS)/*.tflite),$(SHARED_MODELS),$(PROJECT_MODELS)))

# Photo wheels the smoke-set rebuild tests read (downloaded, never installed); skipped when offline.
WHEELS := $(abspath .cache/wheels)

# labgrid (board farms) pins its own pyserial fork, so its programs live in a virtualenv of their own;
# tinyperf drives `labgrid-client` from there (TINYPERF_LABGRID_BIN).
LABGRID_VENV ?= .venv-labgrid

.PHONY: demo test lint install clean smoke-sources labgrid models

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

$(LABGRID_VENV)/.installed:
	python3 -m venv $(LABGRID_VENV)
	$(LABGRID_VENV)/bin/pip install --quiet 'labgrid>=24'
	touch $@

labgrid: $(LABGRID_VENV)/.installed

demo: $(VENV)/.installed
	TINYPERF_MODELS="$(if $(wildcard $(MODELS_ENV)/*.tflite),$(MODELS_ENV),)" $(VENV)/bin/tinyperf demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check host tests benchmarks

models: $(VENV)/.installed
	@if [ "$(MODELS_ENV)" = "$(PROJECT_MODELS)" ]; then \
		TINYPERF_CACHE="$(PROJECT_MODELS)" $(VENV)/bin/tinyperf models pull >/dev/null \
		&& echo "official models: $(PROJECT_MODELS)" \
		|| echo "note: official models not downloaded (offline?): the tests that need them will skip; set TINYPERF_MODELS to a folder holding them"; \
	else echo "official models: $(MODELS_ENV)"; fi

smoke-sources: $(VENV)/.installed
	@$(PY) -c "from tinyperf.suite.smoke.photos import fetch_wheels; fetch_wheels('$(WHEELS)')" \
		|| echo "note: photo wheels not downloaded; the photo smoke-set rebuild tests will skip"

# Three workers on two cores: many tests wait on real-time benches and timeouts; a test module stays in one
# worker (its firmware builds are made once).
TEST_WORKERS ?= 3

test: lint models smoke-sources labgrid
	TINYPERF_MODELS="$(MODELS_ENV)" TINYPERF_WHEELS="$(WHEELS)" TINYPERF_LABGRID_BIN="$(abspath $(LABGRID_VENV))/bin" \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) $(LABGRID_VENV) sessions .pytest_cache .ruff_cache .cache
