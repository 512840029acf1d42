#!/usr/bin/env bash
# A throwaway PostgreSQL server for clamcoach's tests, from Debian's packages.
#
#   scripts/setup-postgres.sh install      install PostgreSQL if it is missing (idempotent)
#   scripts/setup-postgres.sh [start]      install, then start a server on 127.0.0.1 on a free
#                                          port (or reuse the one already running in DIR) and
#                                          print its URL on stdout (logs go to stderr)
#   scripts/setup-postgres.sh stop         stop the server in DIR and delete DIR
#
# DIR is $CLAMCOACH_PG_DIR, default /tmp/clamcoach-pg-$(id -u). The cluster is disposable:
# fsync is off and auth is "trust" on loopback only. Typical use:
#   export CLAMCOACH_TEST_POSTGRES_URL="$(bash scripts/setup-postgres.sh)"
set -euo pipefail

cmd="${1:-start}"
dir="${CLAMCOACH_PG_DIR:-/tmp/clamcoach-pg-$(id -u)}"
db="clamcoach_test"
log() { echo "setup-postgres: $*" >&2; }

pg_bindir() {
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
    done
    return 1
}

install_pg() {
    if pg_bindir >/dev/null; then return 0; fi
    if [[ $(id -u) -ne 0 ]]; then
        log "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql"
        exit 1
    fi
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; }
    pg_bindir >/dev/null || { log "PostgreSQL installed but initdb not found"; exit 1; }
}

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

running() { [[ -f "$dir/data/PG_VERSION" ]] && as_owner "$bin/pg_ctl" status -D "$dir/data" >/dev/null 2>&1; }

url() { echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$dir/port")/$db"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    install_pg
    bin="$(pg_bindir)"
    if running && [[ -f "$dir/port" ]]; then
        log "reusing the server in $dir"
        url; return 0
    fi
    mkdir -p "$dir"
    chmod 755 "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        rm -rf "$dir/data"
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >&2
    fi
    local port tries=0
    while :; do
        port="$(free_port)"
        # The socket lives in DIR, so /var/run/postgresql need not exist or be writable.
        if as_owner "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2; then
            break
        fi
        tries=$((tries + 1))
        if [[ $tries -ge 3 ]]; then log "the server did not start; see $dir/server.log"; tail -20 "$dir/server.log" >&2 || true; exit 1; fi
    done
    echo "$port" | as_owner tee "$dir/port" >/dev/null
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"
    fi
    log "PostgreSQL running in $dir on port $port"
    url
}

stop() {
    bin="$(pg_bindir)" || exit 0
    if running; then as_owner "$bin/pg_ctl" stop -D "$dir/data" -m fast -w >&2; fi
    rm -rf "$dir"
}

case "$cmd" in
    install) install_pg ;;
    start) start ;;
    stop) stop ;;
    url) [[ -f "$dir/port" ]] && url ;;
    *) log "usage: $0 [install|start|stop|url]"; exit 2 ;;
esac
