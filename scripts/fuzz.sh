#!/usr/bin/env bash
# Fuzzes the LGWAN request decoding (fuzz target `lgwan_body`), the registry-feed
# line parser (`feed_line`) and the page-binding check of a PDF (`page_tree`) with
# cargo-fuzz (libFuzzer), installing cargo-fuzz when it is missing. cargo-fuzz needs
# nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
#
# Usage: scripts/fuzz.sh short        each target for $FUZZ_SECONDS (default 20) s — the test command's run
#        scripts/fuzz.sh long         each target for $FUZZ_SECONDS (default 3600) s
#        scripts/fuzz.sh TARGET [S]   one target for S seconds (default 600)
#
# Seeds: fuzz/seeds/lgwan_body/ (one body of each endpoint), fuzz/seeds/page_tree/ (a
# two-page PDF bound to request `r`, subject `s`) and every line of tests/feeds/*.jsonl. New inputs go to a throwaway corpus (or $FUZZ_CORPUS_DIR, kept
# between long runs); a crash or a failed property stops the run with a non-zero
# status and leaves the input in fuzz/artifacts/TARGET/ to replay with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

mode="${1:-short}"
case "$mode" in
  short) targets=(lgwan_body feed_line page_tree); seconds="${FUZZ_SECONDS:-20}" ;;
  long) targets=(lgwan_body feed_line page_tree); seconds="${FUZZ_SECONDS:-3600}" ;;
  lgwan_body | feed_line | page_tree) targets=("$mode"); seconds="${2:-600}" ;;
  *) echo "usage: scripts/fuzz.sh short|long|lgwan_body|feed_line|page_tree [SECONDS]" >&2; exit 2 ;;
esac

export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

target_dir="${CARGO_TARGET_DIR:-$repo/target}/fuzz"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Seed corpora: the LGWAN bodies as committed, the feed lines one file each.
mkdir -p "$work/seeds/lgwan_body" "$work/seeds/feed_line" "$work/seeds/page_tree"
cp fuzz/seeds/lgwan_body/* "$work/seeds/lgwan_body/"
cp fuzz/seeds/page_tree/* "$work/seeds/page_tree/"
n=0
for feed in tests/feeds/*.jsonl; do
  while IFS= read -r line || [[ -n "$line" ]]; do
    n=$((n + 1))
    printf '%s' "$line" > "$work/seeds/feed_line/$n.jsonl"
  done < "$feed"
done

cd fuzz
for t in "${targets[@]}"; do
  corpus="${FUZZ_CORPUS_DIR:-$work/corpus}/$t"
  mkdir -p "$corpus"
  echo "fuzz: $t for ${seconds}s (corpus $corpus)"
  # -rss_limit_mb keeps a runaway input from taking the machine; -timeout flags one
  # input taking more than 10 s as a hang.
  status=0
  cargo fuzz run --target-dir "$target_dir" "$t" "$corpus" "$work/seeds/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    > "$work/$t.log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|new_units_added)|^Done [0-9]+ runs' "$work/$t.log" || true
  if [[ "$status" -ne 0 ]]; then
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz: $t FAILED (status $status); the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
echo "fuzz: no crash, no failed property"
