#!/usr/bin/env bash
# Runs kofu on its embedded default (a SQLite file under the user's data
# directory) with demo data: generates the demo town, imports it, prints counts.
# Usage: scripts/demo.sh [RESIDENTS]   (default 2000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
residents="${1:-2000}"

bash scripts/install-deps.sh --core-only
cargo build --release --locked -p kofu-server
kofu=target/release/kofu
[[ -n "${CARGO_TARGET_DIR:-}" ]] && kofu="$CARGO_TARGET_DIR/release/kofu"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$kofu" demo-town --residents "$residents" --seed 1 --out "$work/town.jsonl"
"$kofu" import "$work/town.jsonl"
"$kofu" stats
