# Hermod Console: `make demo` and `make test` do all set-up on a fresh machine and skip what is there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION := 0.21.14
BINARYEN_VERSION := 132.0.0
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock, or Trunk tries to download one.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock)
# Outside the clone, so a second clone on the same machine reuses it.
TOOLS_DIR := $(HOME)/.local/share/hermod-console-tools
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(TOOLS_DIR)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export TRUNK_SKIP_VERSION_CHECK := true

# The page's wasm holds the paths of its dependencies' sources (in their panic messages), under
# CARGO_HOME, which differs from machine to machine: named from `cargo` instead, the bundle is the
# same bytes wherever it is built, and so is its size against the budget. The flags replace
# .cargo/config.toml's for the wasm, so they repeat its `erase_components`.
CARGO_HOME_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS := --cfg erase_components --remap-path-prefix=$(CARGO_HOME_DIR)/registry/src=cargo

BIN := $(CURDIR)/target/debug/hermod-console
# The tools run at build time only: their fat-LTO release profiles cost minutes and gain nothing here.
FAST_INSTALL := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help demo test node tools browser-tools postgres-tools dist build release lint bench clean-data

help:
	@echo "make demo   build everything and serve the console with the simulator on http://127.0.0.1:8080"
	@echo "make test   every test, the browser ones included"
	@echo "make lint   cargo fmt --check and clippy -D warnings"
	@echo "make release  one file to deploy: target/release/hermod-console, the page inside it"
	@echo "make bench  the performance measures beside a bare axum server, then the 100,000-command benchmark"

## The toolchain for the WebAssembly build. Each step is skipped when the right version is there.
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@[ "$$(trunk --version 2>/dev/null)" = "trunk $(TRUNK_VERSION)" ] \
	  || $(FAST_INSTALL) cargo install trunk --version =$(TRUNK_VERSION) --locked
	@# --locked fails here: wasm-bindgen-cli's lockfile names a crate version the registry lacks.
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] \
	  || $(FAST_INSTALL) cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION)
	@# Debian's binaryen is too old and silently breaks the bundle; npm's 132 is the tested one.
	@wasm-opt --version 2>/dev/null | grep -q "version 132" \
	  || (mkdir -p $(TOOLS_DIR) && npm install --prefix $(TOOLS_DIR) --no-fund --no-audit --loglevel=error binaryen@$(BINARYEN_VERSION))

## Chromium and its driver from Debian, for the browser tests.
browser-tools:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null \
	  || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null)

## PostgreSQL from Debian, for the tests of the store against PostgreSQL (tests/src/postgres.rs).
postgres-tools:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null)

## Node.js: npm installs wasm-opt, and Trunk's post_build hook (Trunk.toml) precompresses dist/ with
## node's zlib. Checked first, so a machine without it fails with this message, not mid-build.
node:
	@command -v node >/dev/null && command -v npm >/dev/null \
	  || { echo "Node.js is missing: install node and npm (Debian: apt-get install nodejs npm), then run make again" >&2; exit 1; }

## The browser console, built by Trunk into dist/, with X.br and X.gz beside each .wasm, .js and .css.
## Built again only when something it is made from is newer than its dist/index.html: `trunk build`
## takes some 40 s (wasm-bindgen, wasm-opt, compression) even when nothing changed.
PAGE_SOURCES := $(shell find frontend shared -type f -not -path '*/target/*') \
  $(wildcard .cargo/config.toml) Cargo.toml Cargo.lock Trunk.toml Makefile

dist: node tools dist/index.html

dist/index.html: $(PAGE_SOURCES)
	trunk build

## The backend binary, with the page built into it (backend/build.rs), as a release is.
build: dist
	cargo build -p hermod-console

## The binary to deploy: optimised, the page inside it, nothing else needed beside it.
release: dist
	cargo build --release -p hermod-console
	@echo "target/release/hermod-console: one file; see the README's Deploying"

demo: dist build
	$(BIN) demo --listen 127.0.0.1:8080 --data-dir ./data

## Four tests at a time, not one per core: the process and browser tests mostly wait (on a console
## starting, a page drawing, a timeout running out), so on two cores four at once take the e2e suite
## from 66 s to 38 s and the browser suite from 137 s to 108 s; six were no faster.
TEST_THREADS ?= 4

test: node tools browser-tools postgres-tools dist build
	cargo fmt --all -- --check
	HERMOD_CONSOLE_BIN=$(BIN) CHROMEDRIVER=$$(command -v chromedriver) RUST_TEST_THREADS=$(TEST_THREADS) cargo test
	@# The in-process suite again, each test on a PostgreSQL database of its own (a throw-away cluster).
	HERMOD_CONSOLE_TEST_STORE=postgres RUST_TEST_THREADS=$(TEST_THREADS) cargo test -p hermod-console --test in_process

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p hermod-console-frontend --target wasm32-unknown-unknown -- -D warnings

## Issue 8's measures beside a bare axum server, then the 100,000-command list benchmark; release builds.
## HERMOD_CONSOLE_BASELINE_BIN=path/to/another/hermod-console adds that binary's figures as a column.
## The bench lifts its open-file limit to the hard limit itself (10,000 held streams need ~10,500).
bench: release
	HERMOD_CONSOLE_BIN=$(CURDIR)/target/release/hermod-console cargo run --release -p hermod-console-tests --bin bench
	HERMOD_CONSOLE_BIN=$(CURDIR)/target/release/hermod-console cargo run --release -p hermod-console-tests --bin scale-bench

clean-data:
	rm -rf ./data
