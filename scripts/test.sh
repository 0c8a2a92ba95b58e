#!/usr/bin/env bash
# Runs every test of kofu on a Debian machine, installing what it needs first:
# formatting and lints, the Rust unit and integration tests on SQLite and on a
# throwaway PostgreSQL server started here, the UI's vitest suite, and the
# counter app's build and tests, its end-to-end journeys in the real WebKitGTK
# web view (Xvfb, tauri-driver, a cups-pdf printer), and a short fuzzing run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
bash scripts/install-deps.sh

step "PostgreSQL (throwaway cluster)"
eval "$(bash scripts/pg-test.sh start)"
trap 'bash scripts/pg-test.sh stop >/dev/null 2>&1 || true' EXIT
echo "using ${KOFU_TEST_PG_URL}"

step "UI: type check, build and unit tests"
npm --prefix ui run build
npm --prefix ui test

step "Rust: format"
cargo fmt --all -- --check

step "Rust: clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust: tests (SQLite and PostgreSQL)"
# The end-to-end tests run the `kofu` binary; cargo builds a package's binaries only
# for that package's own tests, so build it first.
cargo build --locked -p kofu-server --bin kofu
cargo test --workspace --locked

step "Counter app: end-to-end journeys in its web view"
bash scripts/app-e2e.sh

step "Fuzzing (short run: the LGWAN request decoding, the registry-feed parser and the page-binding check)"
bash scripts/fuzz.sh short
