# The two commands of the README. Both do all set-up first (scripts/setup.sh is idempotent).
.PHONY: run test setup build clean-build

SWIFT_TEST_FLAGS ?=
# The main job: interrogate the embedded local model on a default scenario.
ARGS ?= run --scenario detective-culprit --model local

setup:
	bash scripts/setup.sh

build: setup

run: setup
	.build/debug/interrogate $(ARGS)

test: setup
	swift build --build-tests
	swift test --skip-build $(SWIFT_TEST_FLAGS)

clean-build:
	rm -rf .build
