#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests (Debian's `postgresql` package must be installed).
#   .ci/postgres.sh [start]   start it (or reuse a running one) and print its admin URL
#   .ci/postgres.sh stop      stop it (the data stays, `start` brings it back)
# COURIER_TEST_PG_PORT (default 55432) and COURIER_TEST_PG_DIR (default /tmp/courier-test-pg)
# choose the instance. Must run as root (it runs PostgreSQL as the `postgres` user).
set -euo pipefail
port=${COURIER_TEST_PG_PORT:-55432}
dir=${COURIER_TEST_PG_DIR:-/tmp/courier-test-pg}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
case "${1:-start}" in
start)
    if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        if [ ! -f "$dir/data/PG_VERSION" ]; then
            rm -rf "$dir"
            install -d -o postgres -g postgres "$dir"
            su postgres -c "$pgbin/initdb -D $dir/data -A trust -U postgres --no-sync" >/dev/null
        fi
        # fsync off: a test database need not survive a power cut, and the tests run faster.
        su postgres -c "$pgbin/pg_ctl -D $dir/data -l $dir/log -w \
            -o '-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' start" >/dev/null
    fi
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    su postgres -c "$pgbin/pg_ctl -D $dir/data -w -m fast stop" >/dev/null
    ;;
*)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
