# Every target does its own set-up: a fresh machine needs only python3 (3.11+).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run demo test lint format schema api-docs clean system-packages node-packages frontend bench bench-quick fuzz soak soak-quick

# The browser bundles, GraphiQL's and the web client's (frontend/build.mjs writes the
# manifest last): rebuilt when missing or older than anything in frontend/ (its sources,
# package.json and lock)
BUNDLE := web/static/dist/manifest.json
FRONTEND_SOURCES := $(shell find frontend -name node_modules -prune -o -type f -print)
define build_frontend
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	node frontend/build.mjs
endef

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## run: serve Chirp on http://127.0.0.1:8000 on the embedded default (data in ./data)
run: $(VENV)/.installed $(BUNDLE)
	$(PY) app.py

## demo: fill the data folder (./data) with a sample world: users, follows, tweets, photos, trends
demo: $(VENV)/.installed
	$(PY) app.py demo

## test: the whole test suite (installs what it needs first: redis-server, nginx, node, npm,
## wrk and chromium for tests/browser/; and builds GraphiQL's bundle)
test: $(VENV)/.installed system-packages $(BUNDLE)
	$(PY) -m pytest

## frontend: GraphiQL's and the web client's bundles, from npm packages by esbuild, into web/static/dist/
frontend: node-packages
	$(build_frontend)

$(BUNDLE): $(FRONTEND_SOURCES) | node-packages
	$(build_frontend)

node-packages:
	@missing=""; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (apt)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The test session starts redis-server and nginx (the pull CDN) itself (and a Redis
# Cluster, joined with redis-cli from redis-tools), and runs
# the GraphQL over HTTP audit (graphql-http, installed with npm into tests/.npm)
# with node; tests/browser/ drives Debian's chromium (through Playwright, which
# downloads no browser of its own). Debian's packages provide them.
system-packages:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-cli >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing (apt)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

## bench: the full benchmark suite (about 6 minutes); bench-quick: the smoke version
bench: $(VENV)/.installed
	$(PY) -m bench --json bench/.data/full.json

bench-quick: $(VENV)/.installed
	$(PY) -m bench --quick --json bench/.data/quick.json

## fuzz: the GraphQL fuzzer at length: CHIRP_FUZZ_EXAMPLES operations (make test runs 600),
## with new random data each run (make test's are the same every time)
CHIRP_FUZZ_EXAMPLES ?= 5000
fuzz: $(VENV)/.installed
	CHIRP_FUZZ_EXAMPLES=$(CHIRP_FUZZ_EXAMPLES) CHIRP_FUZZ_RANDOM=1 $(PY) -m pytest tests/http/test_fuzz.py

## soak: the read-heavy mix for 10 minutes at 70% of the maximum on the production stores,
## through fan-out worker kills and a Redis restart (bench/README.md, "Soak"); soak-quick: 2 minutes
soak: $(VENV)/.installed
	$(PY) -m bench.soak --json bench/.data/soak.json

soak-quick: $(VENV)/.installed
	$(PY) -m bench.soak --quick --json bench/.data/soak-quick.json

## lint: ruff (lint + format check), mypy, and the layers (import-linter)
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## schema: rewrite schema.graphql from the code
schema: $(VENV)/.installed
	$(PY) -c 'import schema; open("schema.graphql", "w").write(schema.export_sdl())'

## api-docs: rewrite docs/api-reference.md from schema.graphql (after `make schema`)
api-docs: $(VENV)/.installed
	$(PY) tools/api_reference.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache tests/.npm frontend/node_modules web/static/dist
