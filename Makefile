# ClinicFlow: two commands matter — `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test lint typecheck unit any-date browser-deps simulate digest bench bench-latency bench-scale synth deploy destroy clean

## run: install, start the whole product locally (moto + Chalice + pollers + schedules)
run: $(VENV)/.local
	$(BIN)/python -m embedded

## test: install, lint, type-check and run every test (and the in-process tiers a year ahead and back)
test: $(VENV)/.dev browser-deps lint typecheck unit any-date

# The ASL files executed by moto run on their own, one at a time: moto's Step Functions threads starve
# for a minute when they share 2 cores with the parallel suite (steps handed to SQS arrive late or never).
ASL_TESTS := tests/sequences/test_workflows.py
unit: $(VENV)/.dev
	$(BIN)/python -m pytest --ignore=$(ASL_TESTS)
	$(BIN)/python -m pytest -n 0 $(ASL_TESTS)

## any-date: the date-sensitive in-process tests with the calendar shifted a year ahead and a year back
# (the other unit tests build their dates from fixed values: the same on any day by construction)
ANY_DATE_TESTS := tests/unit/test_windows.py tests/unit/test_sms_parts.py tests/unit/test_plans_birthdays.py \
	tests/sequences tests/digest tests/imports/test_follow_ups.py
any-date: $(VENV)/.dev
	CLINICFLOW_SHIFT_DAYS=365 $(BIN)/python -m pytest --ignore=$(ASL_TESTS) $(ANY_DATE_TESTS)
	CLINICFLOW_SHIFT_DAYS=-365 $(BIN)/python -m pytest --ignore=$(ASL_TESTS) $(ANY_DATE_TESTS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

## simulate: replay a synthetic month of a clinic into the running local stack
simulate: $(VENV)/.local
	$(BIN)/python -m embedded.simulate

## digest: render tonight's digest of the demo clinic to .clinicflow/digest/
digest: $(VENV)/.local
	$(BIN)/python -m embedded.digest_preview

## bench: DynamoDB requests per event, transitions per run, monthly cost, package size and cold import,
## patient import, the local stack's latency and throughput (bench-latency), the import worker's peak memory on
## each upload bomb and the largest item written; writes bench/results.md and docs/benchmarks.md, and fails
## (exit 1, saying which) when a target of issue 14 or 24 is missed
bench: $(VENV)/.dev
	$(BIN)/python -m bench

## bench-latency: webhook -> task on the desk against `python -m embedded`, at 10 and 50/s, sustained rate
bench-latency: $(VENV)/.dev
	$(BIN)/python -m bench.latency

## bench-scale: one deployment, 1,000 clinics: fan-out measured, peak load, hot keys, what breaks at 10,000
bench-scale: $(VENV)/.dev
	$(BIN)/python -m bench.scale

## synth: the AWS stack as CloudFormation in infra/cdk.out (offline: no AWS account or region needed)
## deploy / destroy: the AWS stack in infra/ (needs AWS credentials and `npm i -g aws-cdk`)
synth: $(VENV)/.dev
	cd infra && ../$(BIN)/python cdk_app.py

deploy: $(VENV)/.dev
	cd infra && cdk deploy --app "../$(BIN)/python cdk_app.py" --require-approval never

destroy: $(VENV)/.dev
	cd infra && cdk destroy --app "../$(BIN)/python cdk_app.py" --force

browser-deps:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

$(VENV)/.local: requirements.txt requirements-local.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-local.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.local requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

clean:
	rm -rf $(VENV) .clinicflow test-output infra/cdk.out chalice.out .mypy_cache .pytest_cache .ruff_cache
