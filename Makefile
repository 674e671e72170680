# stacksim — the front door. `make help` lists every target.
SHELL := /bin/bash
SWIFT ?= swift
SCENARIO ?= Scenarios/default.yaml
RELEASE_BIN := .build/release/stacksim
DEBUG_BIN := .build/debug/stacksim

.PHONY: help build run test test-unit test-cli scenarios clean

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

build: ## Build stacksim in release mode (warnings are errors)
	$(SWIFT) build -c release -Xswiftc -warnings-as-errors --product stacksim

run: build ## Run $(SCENARIO) on the embedded stack (about a minute) and write its reports
	$(RELEASE_BIN) run $(SCENARIO)

test: test-unit test-cli ## Run every test

test-unit: ## Unit, contract and simulation tests (swift test)
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors
	$(SWIFT) test --skip-build

test-cli: ## Command-line checks: exit codes, validation messages, a short run's reports
	$(SWIFT) build --product stacksim
	Tests/cli/run.sh $(DEBUG_BIN)

scenarios: ## Validate every shipped scenario
	$(SWIFT) build --product stacksim
	$(DEBUG_BIN) scenarios --validate

clean: ## Remove build output and run reports (baselines stay)
	rm -rf .build Reports/*/[0-9]*
