#!/usr/bin/env bash
# Installs what the kofu counter desktop app (src-tauri/ + ui/) needs to build,
# test and run on Debian: the WebKitGTK/GTK development packages Tauri v2
# links against, Xvfb and the WebKit WebDriver for headless runs, and the
# ui/ npm dependencies. Idempotent: installs only what is missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

debian_packages=(
  libwebkit2gtk-4.1-dev
  libayatana-appindicator3-dev
  librsvg2-dev
  libssl-dev
  pkg-config
  build-essential
  xvfb
  webkit2gtk-driver
  # A Japanese font, so the UI's Japanese text renders as glyphs.
  fonts-ipaexfont-gothic
)

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
else
  as_root=(sudo)
fi

missing_packages=()
for package in "${debian_packages[@]}"; do
  if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing_packages+=("$package")
  fi
done

if [[ ${#missing_packages[@]} -gt 0 ]]; then
  echo "install-app-deps: installing Debian packages: ${missing_packages[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing_packages[@]}"
else
  echo "install-app-deps: Debian packages already installed"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-app-deps: Node.js >= 20.19 with npm is needed for the counter UI (Debian 12's nodejs is too old); install it, then run this again." >&2
  exit 1
fi

if [[ ! -d "$repo_root/ui/node_modules" ]]; then
  echo "install-app-deps: npm ci in ui/"
  npm --prefix "$repo_root/ui" ci
else
  echo "install-app-deps: ui/node_modules already present"
fi
