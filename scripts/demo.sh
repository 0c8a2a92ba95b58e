#!/usr/bin/env bash
# Runs kofu on its embedded default with demo data.
#
# With a display: builds and opens the counter app (窓口) in embedded mode and demo mode
# (KOFU_COUNTER_DEMO=1) — its own SQLite file under the user's data directory, seeded on
# first run with the demo town and one demo account per role (the login screen lists
# them and fills in their codes). Without a display, or with --cli: generates the demo town, imports it into
# the embedded default database of the `kofu` command and prints its counts.
# Usage: scripts/demo.sh [--cli] [RESIDENTS]   (RESIDENTS: --cli only, default 2000)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cli=0
if [[ "${1:-}" == "--cli" ]]; then
  cli=1
  shift
fi
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  [[ "$cli" -eq 1 ]] || echo "demo: no display (DISPLAY/WAYLAND_DISPLAY unset), so the command-line demo runs instead of the app" >&2
  cli=1
fi
target="${CARGO_TARGET_DIR:-target}"

if [[ "$cli" -eq 0 ]]; then
  bash scripts/install-deps.sh
  npm --prefix ui run build
  cargo build --locked -p kofu-counter
  echo "demo: opening the counter app (embedded mode; demo accounts on the login screen)"
  # Demo mode: an empty data directory is seeded with the demo town and accounts
  # (without it, a first start asks for the first administrator instead).
  KOFU_COUNTER_DEMO=1 exec "$target/debug/kofu-counter"
fi

residents="${1:-2000}"
bash scripts/install-deps.sh --core-only
cargo build --release --locked -p kofu-server
kofu="$target/release/kofu"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$kofu" demo-town --residents "$residents" --seed 1 --out "$work/town.jsonl"
"$kofu" import "$work/town.jsonl"
"$kofu" stats
echo "demo: imported into the embedded default database; with a display, 'bash scripts/demo.sh' opens the counter app"
