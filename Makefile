# The two commands of the README, and a few more. Everything runs from a fresh clone.
.PHONY: up test down status lint typecheck unit integration e2e bench contracts

PY := .venv/bin/python
STACK := $(PY) deploy/local/stack.py

## Start the whole system with sample data and print where to look
## (`make up REPLICAS=2`: two processes per consumer service, sharing the partitions;
## `make up PROMETHEUS=1`: a local Prometheus scraping them, linked from the operator dashboard).
up:
	@deploy/local/bootstrap.sh
	@$(STACK) up --replicas $(or $(REPLICAS),1) $(if $(filter-out 0,$(PROMETHEUS)),--prometheus)

## Install what is needed and run every check and test (what CI runs).
test:
	@deploy/local/bootstrap.sh
	@$(MAKE) --no-print-directory lint typecheck
	@$(STACK) infra-up
	@$(PY) -m pytest -m "unit or integration or e2e"

down:
	@$(STACK) down

status:
	@$(STACK) status

lint:
	@echo "[test] ruff"
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

typecheck:
	@echo "[test] mypy --strict"
	@.venv/bin/mypy schemas/src services/eventkit/src services/intake/src services/referral/src services/directory/src services/notify/src services/web/src
	@MYPYPATH=deploy/local .venv/bin/mypy --strict -p tsunagu_stack
	@MYPYPATH=deploy/local:deploy/k8s .venv/bin/mypy --strict deploy/k8s/tsunagu_k8s deploy/k8s/generate.py

unit:
	@$(PY) -m pytest -m unit

integration:
	@$(STACK) infra-up
	@$(PY) -m pytest -m integration

e2e:
	@$(STACK) infra-up
	@$(PY) -m pytest -m e2e

contracts:
	@$(PY) -m contracts.generate

bench:
	@$(STACK) up
	@$(PY) bench/handoff_latency.py
