# The two commands of the README. Both do all set-up first (scripts/setup.sh is idempotent).
.PHONY: run test setup build release clean-build

SWIFT_TEST_FLAGS ?=
# The main job: interrogate the embedded local model on a default scenario.
ARGS ?= run --scenario detective-culprit --model local
# What users run: the optimised build (the debug build is several times slower on long
# sessions and large studies).
BIN := .build/release/interrogate

setup:
	bash scripts/setup.sh

build: setup

release: setup

run: setup
	$(BIN) $(ARGS)

# Tests use the debug build (SwiftPM's test builds are debug); set-up skips the release binary here.
test:
	SKIP_BUILD=1 bash scripts/setup.sh
	swift build --build-tests
	swift test --skip-build $(SWIFT_TEST_FLAGS)

clean-build:
	rm -rf .build
