#!/usr/bin/env bash
# A throwaway PostgreSQL server for kofu's tests.
#
#   eval "$(scripts/pg-test.sh start)"   # prints: export KOFU_TEST_PG_URL=postgres://…
#   cargo test -p kofu-store
#   scripts/pg-test.sh stop               # stops the server and deletes its files
#   scripts/pg-test.sh status             # says whether one is running
#
# Installs Debian's `postgresql` package when no server binaries are found. The cluster
# lives in a fresh temporary directory (owned by the `postgres` user when run as root,
# since PostgreSQL refuses to run as root), listens on a free loopback port with its
# socket in that directory, trusts local connections, and has a database `kofu_test`.
# Idempotent: `start` with a server already running prints its exports again; `stop`
# without one does nothing. Only stdout carries the export lines; the rest goes to stderr.
set -euo pipefail

state_file="${KOFU_PG_TEST_STATE:-${TMPDIR:-/tmp}/kofu-pg-test.state}"
database=kofu_test

log() { echo "pg-test: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  else
    sudo "$@"
  fi
}

pg_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then
    echo "$dir"
  fi
}

install_postgres() {
  log "no PostgreSQL server binaries found; installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y --no-install-recommends postgresql >&2; then
    log "install failed; updating the package lists and retrying"
    as_root apt-get update >&2
    as_root apt-get install -y --no-install-recommends postgresql >&2
  fi
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "found no free loopback port"
}

print_exports() {
  local port="$1" dir="$2"
  echo "export KOFU_TEST_PG_URL=postgres://postgres@127.0.0.1:${port}/${database}"
  echo "export KOFU_TEST_PG_DIR=${dir}"
}

# Reads the state file into $dir, $port and $bin; fails if there is none.
read_state() {
  [[ -f "$state_file" ]] || return 1
  # shellcheck disable=SC1090
  source "$state_file"
  [[ -n "${dir:-}" && -n "${port:-}" && -n "${bin:-}" ]]
}

running() {
  read_state && [[ -d "$dir/data" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

start() {
  if running; then
    log "already running on port $port ($dir)"
    print_exports "$port" "$dir"
    return 0
  fi
  # A stale state file from a server that is gone: clean up after it.
  if read_state; then
    rm -rf -- "$dir"
    rm -f -- "$state_file"
  fi

  bin="$(pg_bin_dir)"
  if [[ -z "$bin" ]]; then
    install_postgres
    bin="$(pg_bin_dir)"
    [[ -n "$bin" ]] || die "postgresql installed but no /usr/lib/postgresql/*/bin/initdb"
  fi

  dir="$(mktemp -d "${TMPDIR:-/tmp}/kofu-pg-test.XXXXXX")"
  chmod 755 "$dir"
  if [[ "$(id -u)" -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "user postgres does not exist (is the postgresql package installed?)"
    chown postgres: "$dir"
  fi
  port="$(free_port)"

  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(cat "$dir/initdb.log")"
  # Throwaway data: no durability, a few more connections for parallel tests.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off" >&2 ||
    die "server did not start: $(tail -n 20 "$dir/server.log" 2>/dev/null)"

  printf 'dir=%q\nport=%q\nbin=%q\n' "$dir" "$port" "$bin" >"$state_file"
  as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres "$database" ||
    die "createdb $database failed"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port ($dir)"
  print_exports "$port" "$dir"
}

stop() {
  if ! read_state; then
    log "not running"
    return 0
  fi
  if [[ -d "$dir/data" ]]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf -- "$dir"
  rm -f -- "$state_file"
  log "stopped and removed $dir"
}

status() {
  if running; then
    log "running on 127.0.0.1:$port ($dir)"
    print_exports "$port" "$dir"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
