# The two commands of the README. Both do all set-up first (scripts/setup.sh is idempotent).
.PHONY: run test setup build clean-build

SWIFT_TEST_FLAGS ?=
ARGS ?=

setup:
	bash scripts/setup.sh

build: setup

# The main job. Until the live-interrogation screen lands, this lists the scenarios it would offer.
run: setup
	.build/debug/interrogate $(if $(ARGS),$(ARGS),scenarios list)

test: setup
	swift build --build-tests
	swift test --skip-build $(SWIFT_TEST_FLAGS)

clean-build:
	rm -rf .build
