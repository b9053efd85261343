# Docspasta. `make crawl URL=...` and `make test` work on a fresh machine: they build
# .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
URL ?=
ARGS ?=
PYTEST_ARGS ?=
# The image `make image` builds and `make image-test` runs.
IMAGE ?= docspasta:dev

.PHONY: venv crawl serve test test-fast test-sites system-deps browser-deps proto proto-check typecheck bench cluster-test validate-k8s clean \
	image-deps image image-test lint contract-tools

# Two installs into one .venv: RUNTIME has only what crawl/serve need (pyproject
# dependencies); STAMP adds the dev/test extras on top (make test, make venv).
RUNTIME := $(VENV)/.runtime

$(RUNTIME): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

## crawl: make crawl URL=https://docs.example.com/ [ARGS="--max-pages 100 -o out.md"] (runtime install only)
crawl: $(RUNTIME)
	@test -n "$(URL)" || { echo 'usage: make crawl URL=https://docs.example.com/ [ARGS="..."]'; exit 2; }
	$(BIN)/docspasta crawl '$(URL)' $(ARGS)

serve: $(RUNTIME)
	$(BIN)/docspasta serve $(ARGS)

## system-deps: Debian packages the tests use (Redis, PostgreSQL, Chromium, nginx).
system-deps:
	@scripts/system-deps.sh

proto: $(STAMP)
	PYTHON=$(abspath $(PY)) scripts/genproto.sh

## contract-tools: buf, @grpc/grpc-js, @grpc/proto-loader (npm, tests/contract/node_modules)
## and checkov (its own venv, build/tools/checkov), at pinned versions.
contract-tools:
	@scripts/contract-tools.sh

## proto-check: buf lint (STANDARD + documented exceptions), buf format, and buf breaking
## of each package against its baseline (v1: proto/baseline/v0.1.0.json, v2: proto/baseline/v2-initial.json).
proto-check: contract-tools
	scripts/lint.sh proto

## lint: proto-check, then every k8s overlay rendered, schema-validated and checkov-clean.
## `.ci/run` runs it before `make test`; no image is built.
lint: $(STAMP) contract-tools
	PYTHON=$(abspath $(PY)) scripts/lint.sh

typecheck: $(STAMP)
	$(BIN)/mypy

## test-sites: the renderer's Docsify test site runtime, from npm (tests/renderer/docsify).
DOCSIFY := tests/renderer/docsify/node_modules/docsify/package.json
$(DOCSIFY): tests/renderer/docsify/package-lock.json
	npm ci --prefix tests/renderer/docsify --no-audit --no-fund --ignore-scripts --silent
	touch $@

test-sites: $(DOCSIFY)

test: $(STAMP) system-deps contract-tools test-sites
	$(BIN)/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not browser and not cluster" $(PYTEST_ARGS)

## validate-k8s: render every k8s/overlays/* with kubectl kustomize, validate offline against the schemas.
validate-k8s: $(STAMP)
	PYTHON=$(abspath $(PY)) scripts/validate-k8s.sh

## image-deps: podman, buildah, runc, debootstrap from Debian when no container engine works
## here, and build/containers/containers.conf (runc, ulimits within this machine's).
image-deps:
	@scripts/image-deps.sh

## image: build $(IMAGE) from the Dockerfile with docker or podman. Without a registry the
## base is debootstrapped first (scripts/base-image.sh). Not part of `make test` (slow).
image: image-deps
	IMAGE=$(IMAGE) scripts/image.sh build

## image-test: run each service from $(IMAGE) read-only, non-root, no capabilities; check
## health, crawl a local site through the four containers, stop them with SIGTERM.
image-test: $(STAMP) image-deps system-deps
	IMAGE=$(IMAGE) PYTHON=$(abspath $(PY)) scripts/image.sh test

cluster-test: $(STAMP) system-deps
	$(PY) -m pytest -m cluster $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info
