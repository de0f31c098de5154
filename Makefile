# The two commands: `make run` (the platform on 127.0.0.1) and `make test` (every test).
# Each installs what it needs first; repeated runs skip what is already installed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
LAYER_TARGET_PYTHON := $(shell sed -n 's/^LAYER_PYTHON_VERSION = "\(.*\)"/\1/p' infra/function.py)
LAYER_TARGET_PLATFORM := $(shell sed -n 's/^LAYER_PLATFORM = "\(.*\)"/\1/p' infra/function.py)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: install run test test-fast synth layers openapi events invoke keys clean bench bench-expiry bench-tiers bench-kpis

install: $(VENV)/.installed node_modules/.installed .build/java.ok layers

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# DynamoDB Local needs a Java runtime; Debian's default-jre-headless where the machine has none.
.build/java.ok:
	@mkdir -p .build
	@command -v java >/dev/null 2>&1 || { echo "installing a Java runtime for DynamoDB Local"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; }
	@java -version 2>&1 | head -1
	touch $@

# The dependencies layer, built for the Lambda target (no Docker), and the same requirements built
# for this machine, which the deployment-contents test imports the handlers against.
layers: .build/layers/deps/.built .build/layers/deps-host/.built

# Requirements published only as source (pure Python: jieba) are built into wheels here first, so the
# layer builds below can stay binary-only.
SOURCE_ONLY_REQUIREMENTS := jieba
.build/wheels/.built: layers/deps/requirements.txt $(VENV)/.installed
	rm -rf .build/wheels && mkdir -p .build/wheels
	$(VENV)/bin/pip wheel --quiet --no-deps --wheel-dir .build/wheels \
	  $$(grep -E '^($(subst $(eval) ,|,$(SOURCE_ONLY_REQUIREMENTS)))==' layers/deps/requirements.txt)
	touch $@

.build/layers/deps/.built: layers/deps/requirements.txt infra/function.py $(VENV)/.installed .build/wheels/.built
	rm -rf .build/layers/deps && mkdir -p .build/layers/deps
	$(VENV)/bin/pip install --quiet --no-compile --only-binary=:all: --implementation cp \
	  --platform $(LAYER_TARGET_PLATFORM) --python-version $(LAYER_TARGET_PYTHON) --find-links .build/wheels \
	  --target .build/layers/deps/python -r layers/deps/requirements.txt
	touch $@

.build/layers/deps-host/.built: layers/deps/requirements.txt $(VENV)/.installed .build/wheels/.built
	rm -rf .build/layers/deps-host && mkdir -p .build/layers/deps-host
	$(VENV)/bin/pip install --quiet --no-compile --only-binary=:all: --find-links .build/wheels \
	  --target .build/layers/deps-host/python -r layers/deps/requirements.txt
	touch $@

run: install
	$(PY) -m local.run --port $(PORT)

# Unit, component and infra tests spread over the cores; the end-to-end and contract tests each start
# local runs of their own and go after, one at a time.
test: install
	$(PY) -m pytest -n auto --dist loadfile tests/unit tests/component tests/infra
	$(PY) -m pytest tests/e2e tests/contract

synth: install
	npx cdk synth --quiet

openapi: install
	$(PY) -m local.openapi --write docs/openapi.json

events: install
	$(PY) -m local.event_catalogue --write docs/events

# make invoke FUNCTION=members EVENT=events/members/enroll.json   (against a running `make run`)
invoke:
	$(PY) -m local.invoke $(FUNCTION) $(EVENT)

# make keys ARGS="create --client-id pos-sh-xuhui-2 --kind pos --stores SH-XUHUI"
keys:
	$(PY) -m ops.admin --local keys $(ARGS)

# Empties the local run's data (the table in .local-data/dynamodb/ and the stream positions; logs stay),
# so the next `make run` starts empty. Refused while `make run` is running.
.PHONY: reset
reset:
	$(PYTHON) -m local.reset

# What each ledger operation reads and writes (DynamoDB Local), then each handler's cold import.
bench: install
	$(PY) -m bench.run
	$(PY) -m bench.cold_import --split

# The daily expiry job over 100,000 seeded balances, 1% of them due (bench/expiry.py; about 5 minutes).
bench-expiry: install
	$(PY) -m bench.expiry

bench-tiers: install
	$(PY) -m bench.tier_review

# What counting one event writes and what a year's KPI report reads (bench/kpis.py; about 2 minutes).
bench-kpis: install
	$(PY) -m bench.kpis

clean:
	rm -rf .build cdk.out .local-data
