#!/usr/bin/env bash
# Installs what the kofu counter desktop app (src-tauri/ + ui/) needs to build,
# test and run on Debian: the WebKitGTK/GTK development packages Tauri v2
# links against, Xvfb and the WebKit WebDriver for headless runs, CUPS with
# the cups-pdf printer for the end-to-end journeys (scripts/app-e2e.sh),
# tauri-driver, and the npm dependencies of ui/ and tests/app/. Idempotent:
# installs only what is missing.
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
  # The end-to-end journeys: xwininfo (the window title), xwd (a screenshot of
  # the display when the web driver's hangs), CUPS with a PDF printer, pdftotext to
  # read what was printed.
  x11-utils
  x11-apps
  cups
  cups-client
  printer-driver-cups-pdf
  poppler-utils
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

for package_dir in ui tests/app; do
  if [[ ! -d "$repo_root/$package_dir/node_modules" ]]; then
    echo "install-app-deps: npm ci in $package_dir/"
    # tests/app's tree holds driver downloaders (geckodriver, edgedriver) it
    # never uses: no install scripts there.
    extra=()
    [[ "$package_dir" == tests/app ]] && extra=(--ignore-scripts)
    npm --prefix "$repo_root/$package_dir" ci --no-audit --no-fund "${extra[@]}"
  else
    echo "install-app-deps: $package_dir/node_modules already present"
  fi
done

# tauri-driver: the WebDriver intermediary between WebdriverIO and
# WebKitWebDriver. Major version 2 (Tauri v2); crates.io also has 3.0 alphas.
if ! command -v tauri-driver >/dev/null 2>&1; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "install-app-deps: cargo is needed to install tauri-driver (run scripts/install-deps.sh first)" >&2
    exit 1
  fi
  echo "install-app-deps: cargo install tauri-driver"
  cargo install tauri-driver --locked --version '^2'
else
  echo "install-app-deps: tauri-driver already installed ($(command -v tauri-driver))"
fi
