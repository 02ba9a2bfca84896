# The two commands: `make run` and `make test` (see README.md).

COG_DIR := node_modules/@etalab/decoupage-administratif/data
BIN := target/release/locadocs
export LOCADOCS_DATABASE_URL ?= sqlite://locadocs.db

.PHONY: run test test-browser setup build bench

setup:
	./scripts/setup.sh

build: setup
	cargo build --release --locked -p locadocs

## Sets everything up and serves on http://127.0.0.1:8080 with real communes and demo data.
run: build
	$(BIN) migrate
	$(BIN) import communes $(COG_DIR)
	$(BIN) demo
	$(BIN) serve --bind 127.0.0.1:8080

## Runs the whole test suite: Rust unit, integration and property tests
## (SQLite always; PostgreSQL when reachable), then the browser tests
## (headless Chromium and axe-core against the debug binary).
## The browser tests drive target/debug/locadocs, which `cargo test` has just
## built for the integration tests: a separate `cargo build` would compile the
## dependencies again with other features (those of the test build's
## dev-dependencies) for the same binary.
test: setup
	cargo test --workspace --locked
	test -x target/debug/locadocs || cargo build --locked -p locadocs
	node --test --test-timeout=300000 tests/browser/

## Only the browser tests (after `make setup`; builds the debug binary).
test-browser: setup
	cargo build --locked -p locadocs
	node --test --test-timeout=300000 tests/browser/

## Benchmarks (release): commune search, snapshot build, HTTP load.
bench: setup
	./bench/run.sh
