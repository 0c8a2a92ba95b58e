#!/usr/bin/env bash
# Runs the counter app's end-to-end journeys (tests/app/) in its real WebKitGTK
# webview: builds ui/ and the kofu-counter binary, makes sure CUPS runs with a
# cups-pdf queue `kofu-test` writing into a known directory, starts Xvfb on a
# free display and tauri-driver (which starts WebKitWebDriver, which starts the
# app), then runs the journeys with a fresh embedded data directory (one journey
# runs the app in server mode against `kofu serve` through a proxy it cuts).
#
# Artifacts (screenshots of each screen, the printed PDFs, the logs) are left in
# $KOFU_E2E_OUT (default /tmp/kofu-app-e2e); the path is printed at the end.
# Needs scripts/install-app-deps.sh to have run (root, or sudo for CUPS).
# Arguments go to node, e.g. --test-name-pattern=supervisor for one journey;
# KOFU_E2E_NO_BUILD=1 uses the binary and ui/dist as they are.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

step() { printf '\n== app-e2e: %s\n' "$*"; }
die() { printf 'app-e2e: %s\n' "$*" >&2; exit 1; }

out="${KOFU_E2E_OUT:-/tmp/kofu-app-e2e}"
queue="${KOFU_E2E_QUEUE:-kofu-test}"
target_dir="${CARGO_TARGET_DIR:-$repo_root/target}"
app="$target_dir/debug/kofu-counter"
# The town hall's server, for the journey with the network cut.
kofu="$target_dir/debug/kofu"

if [[ "$(id -u)" -eq 0 ]]; then as_root=(); else as_root=(sudo); fi

rm -rf "$out"
mkdir -p "$out/screenshots" "$out/pdf" "$out/logs"
chmod 1777 "$out/pdf"
data_dir="$(mktemp -d /tmp/kofu-app-e2e-data.XXXXXX)"

pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    # Each was started with setsid: end its whole process group (tauri-driver's
    # WebKitWebDriver and app children too), then the process itself.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.5
  for pid in "${pids[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$data_dir"
  echo "app-e2e: artifacts (screenshots, printed PDFs, logs) in $out"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds="$1"
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

if [[ "${KOFU_E2E_NO_BUILD:-}" == 1 ]]; then
  step "build: skipped (KOFU_E2E_NO_BUILD=1), using $app and ui/dist as they are"
else
  step "build: ui/ and kofu-counter"
  npm --prefix ui run build
  cargo build --locked -p kofu-counter
  cargo build --locked -p kofu-server --bin kofu
fi
[[ -x "$app" ]] || die "no binary at $app"
[[ -x "$kofu" ]] || die "no binary at $kofu"

step "journey dependencies (tests/app)"
if [[ ! -d tests/app/node_modules ]] || [[ tests/app/package-lock.json -nt tests/app/node_modules ]]; then
  npm --prefix tests/app ci --no-audit --no-fund --ignore-scripts
  touch tests/app/node_modules
fi
for tool in tauri-driver WebKitWebDriver Xvfb cupsd lpadmin lpstat pdftotext xwininfo; do
  command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] ||
    die "$tool not found: run scripts/install-app-deps.sh"
done

step "CUPS: scheduler and the cups-pdf queue $queue"
cupsd_bin="$(command -v cupsd || echo /usr/sbin/cupsd)"
# Keep the spooled copy of each job (/var/spool/cups/dNNNNN-001): the exact
# bytes the app gave lp, whose SHA-256 the journeys compare with the
# document's (cups-pdf's own output is re-rendered by Ghostscript).
if ! grep -q '^PreserveJobFiles Yes' /etc/cups/cupsd.conf; then
  # lpstat -r exits 0 even when it answers "scheduler is not running".
  if lpstat -r 2>/dev/null | grep -q 'is running'; then
    "${as_root[@]}" cupsctl PreserveJobFiles=Yes
  else
    "${as_root[@]}" sed -i '/^PreserveJobFiles/d' /etc/cups/cupsd.conf
    echo 'PreserveJobFiles Yes' | "${as_root[@]}" tee -a /etc/cups/cupsd.conf >/dev/null
  fi
fi
if ! lpstat -r 2>/dev/null | grep -q 'is running'; then
  echo "starting $cupsd_bin (no systemd here)"
  "${as_root[@]}" mkdir -p /run/cups
  "${as_root[@]}" "$cupsd_bin"
fi
wait_for 20 sh -c 'lpstat -r | grep -q "is running"' || die "cupsd did not start"
# cups-pdf reads /etc/cups/cups-pdf-<name>.conf for the device URI cups-pdf:/<name>.
"${as_root[@]}" tee "/etc/cups/cups-pdf-$queue.conf" >/dev/null <<EOF
# Written by scripts/app-e2e.sh: the e2e queue's PDFs go to the run's artifacts.
Out $out/pdf
AnonDirName $out/pdf
Label 0
Grp lpadmin
DecodeHexStrings 1
EOF
model="$(lpinfo -m 2>/dev/null | awk '/CUPS-PDF_opt\.ppd/ { print $1; exit }')"
[[ -n "$model" ]] || model="$(lpinfo -m 2>/dev/null | awk 'tolower($0) ~ /cups-pdf/ { print $1; exit }')"
[[ -n "$model" ]] || die "no cups-pdf model in 'lpinfo -m': install printer-driver-cups-pdf"
"${as_root[@]}" lpadmin -p "$queue" -E -v "cups-pdf:/$queue" -m "$model" 2>&1 | grep -v 'drivers are deprecated' || true
"${as_root[@]}" cupsenable "$queue"
"${as_root[@]}" cupsaccept "$queue"
lpstat -v "$queue"

step "Xvfb"
display_no=120
while [[ -e "/tmp/.X${display_no}-lock" || -e "/tmp/.X11-unix/X${display_no}" ]]; do
  display_no=$((display_no + 1))
  ((display_no < 200)) || die "no free X display"
done
setsid Xvfb ":$display_no" -screen 0 1280x900x24 -nolisten tcp >"$out/logs/xvfb.log" 2>&1 &
pids+=($!)
wait_for 15 test -S "/tmp/.X11-unix/X${display_no}" || die "Xvfb :$display_no did not start (see $out/logs/xvfb.log)"
export DISPLAY=":$display_no"
echo "DISPLAY=$DISPLAY"

step "tauri-driver"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=4444
until port_free "$port" && port_free "$((port + 1))"; do
  port=$((port + 2))
  ((port < 4600)) || die "no free port pair for tauri-driver"
done
# The app inherits this environment (tauri-driver -> WebKitWebDriver -> app).
export KOFU_COUNTER_DATA_DIR="$data_dir"
# Demo mode for the journeys' first start (the demo town and accounts); the last
# journey removes it and starts afresh, as a town's first administrator would.
printf '{"KOFU_COUNTER_DEMO": "1"}\n' >"$data_dir/counter.json"
export KOFU_COUNTER_QUEUE="$queue"
# Report exports (save_export) land here, where the supervisor journey reads them back.
export KOFU_COUNTER_EXPORT_DIR="$out/exports"
# No GPU under Xvfb: software rendering, no DMA-BUF renderer.
export WEBKIT_DISABLE_DMABUF_RENDERER=1 LIBGL_ALWAYS_SOFTWARE=1
setsid tauri-driver --port "$port" --native-port "$((port + 1))" >"$out/logs/tauri-driver.log" 2>&1 &
pids+=($!)
wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || die "tauri-driver did not listen on $port (see $out/logs/tauri-driver.log)"
echo "tauri-driver on 127.0.0.1:$port, data dir $data_dir, queue $queue"

step "journeys"
export KOFU_E2E_APP="$app"
export KOFU_E2E_KOFU="$kofu"
export KOFU_E2E_LOGS="$out/logs"
export KOFU_E2E_SCREENSHOTS="$out/screenshots"
export KOFU_E2E_PDF_DIR="$out/pdf"
export KOFU_E2E_DRIVER_PORT="$port"
status=0
timeout --kill-after=10 "${KOFU_E2E_TIMEOUT:-900}" node "$@" tests/app/journeys.test.js || status=$?
echo "screenshots: $out/screenshots"
ls -1 "$out/screenshots"
exit "$status"
