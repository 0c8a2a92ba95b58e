#!/usr/bin/env bash
# Installs what kofu needs on a Debian machine, only what is missing: the C
# toolchain and headers for the Rust build, PostgreSQL (tests start a throwaway
# server), poppler and qpdf (PDF checks), the IPA fonts (certificates), then the
# counter app's own dependencies (scripts/install-app-deps.sh).
# Usage: scripts/install-deps.sh [--core-only]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v cargo >/dev/null 2>&1; then
  echo "install-deps: no Rust toolchain found. Install one with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi

packages=(
  build-essential pkg-config libssl-dev
  postgresql
  poppler-utils qpdf
  fonts-ipaexfont-mincho fonts-ipaexfont-gothic fonts-ipamj-mincho
)

as_root=()
[[ "$(id -u)" -eq 0 ]] || as_root=(sudo)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${1:-}" != "--core-only" ]]; then
  bash "$here/install-app-deps.sh"
fi
