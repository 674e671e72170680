# stacksim — the front door. `make help` lists every target.
SHELL := /bin/bash
SWIFT ?= swift
SCENARIO ?= Scenarios/default.yaml
RELEASE_BIN := .build/release/stacksim
DEBUG_BIN := .build/debug/stacksim

# Packages: the C libraries the build links, the throwaway servers, the test tools. Installs go
# through sudo only when not already root (CI runs as root).
BUILD_PACKAGES := zlib1g-dev libpq-dev libmongoc-dev libhiredis-dev
SERVICE_PACKAGES := postgresql-15 postgresql-contrib redis-server redis-tools python3-mockupdb python3-mongomock
APT := scripts/apt-ensure.sh

.PHONY: help deps build run bench bench-live bench-evidence bench-gate example test test-unit test-cli test-deps services-up services-down scenarios clean

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

deps: ## Install the C libraries the build links: zlib (latency.hlog), libpq, libmongoc, hiredis
	@$(APT) $(BUILD_PACKAGES)

# Release builds leave out the run-time exclusivity checks: on a live call they were 3 % of the
# client's user time (swift_beginAccess and its thread-local lookups); the debug builds the tests
# run keep them, so a violation still traps there.
RELEASE_FLAGS := -Xswiftc -warnings-as-errors -Xswiftc -enforce-exclusivity=unchecked

build: deps ## Build stacksim in release mode (warnings are errors; no run-time exclusivity checks)
	$(SWIFT) build -c release $(RELEASE_FLAGS) --product stacksim

run: build ## Run $(SCENARIO) on the embedded stack (about a minute) and write its reports
	$(RELEASE_BIN) run $(SCENARIO)

test: services-up ## Every test, against throwaway live servers it starts and stops; builds and runs the example package
	STACKSIM_LIVE_TESTS=1 $(MAKE) test-unit test-cli example; status=$$?; $(MAKE) services-down; exit $$status

services-up: deps ## Start PostgreSQL 15, Redis and the MongoDB test server on loopback ports 55432, 56379, 57017; prints the exports
	@$(APT) $(SERVICE_PACKAGES)
	@scripts/services.sh up

services-down: ## Stop the servers services-up started and delete their data
	@scripts/services.sh down

test-unit: deps ## Unit, contract, simulation and queueing-theory tests, and the live suite when STACKSIM_LIVE_TESTS=1, one test at a time: timing tests never share the 2 cores
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors
	$(SWIFT) test --skip-build --no-parallel

test-cli: test-deps ## Command-line checks: exit codes, validation messages, a short run's reports
	$(SWIFT) build --product stacksim
	Tests/cli/run.sh $(DEBUG_BIN)

test-deps: deps ## Install what the tests use besides Swift: headless Chromium and Python's HdrHistogram, xmlschema, Markdown, jsonschema, PyYAML
	@$(APT) chromium
	@python3 -c 'import hdrh, xmlschema, markdown, jsonschema, yaml' 2>/dev/null || python3 -m pip install --quiet --root-user-action=ignore hdrhistogram xmlschema markdown jsonschema pyyaml

example: deps ## Build and run Examples/sprint-rollover: a package using the StackSim library (custom action, Swift scenario)
	$(SWIFT) build --package-path Examples/sprint-rollover --scratch-path .build-examples -Xswiftc -warnings-as-errors
	.build-examples/debug/SprintRollover Reports/sprint-rollover/latest

bench: build ## The embedded stack's cost: a rate sweep, 30/300/3,000 organizations, memory per simulated user (docs/performance.md)
	bench/embedded.sh
	bench/users.sh

bench-live: build services-up ## Store calls through the live adapters next to pgbench and redis-benchmark, 1/4/16 connections, 3 times: rates and client CPU per call as ratios
	bench/live.sh

bench-gate: build ## The regression gate on Scenarios/ci-regression.yaml: false alarms, detection of 5–50 % slowdowns of one operation, drift (about 45 minutes)
	bench/gate.sh

bench-evidence: build services-up ## What server evidence costs: the same live run with and without it (see docs/performance.md)
	bench/evidence.sh

scenarios: deps ## Validate every shipped scenario and regenerate their JSON Schema (Scenarios/scenario.schema.json)
	$(SWIFT) build --product stacksim
	$(DEBUG_BIN) scenarios --validate
	$(DEBUG_BIN) scenarios --schema > Scenarios/scenario.schema.json

clean: ## Remove build output and run reports (baselines stay)
	rm -rf .build .build-examples Reports/*/[0-9]* Reports/sprint-rollover
