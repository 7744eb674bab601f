#!/usr/bin/env bash
# A throwaway ClamAV daemon for the tests (Debian's `clamav-daemon` package must be installed).
# No signature download is needed or possible here: it runs on a database this script writes,
# with the EICAR test file and one custom hash signature (see crates/courier-cli/tests/e2e/malware.rs).
#   .ci/clamd.sh [start]   start it (or reuse a running one) and print its TCP address
#   .ci/clamd.sh stop      stop it
# COURIER_TEST_CLAMD_PORT (default 53310) and COURIER_TEST_CLAMD_DIR (default
# /tmp/courier-test-clamd) choose the instance; its Unix socket is $dir/clamd.sock.
set -euo pipefail
port=${COURIER_TEST_CLAMD_PORT:-53310}
dir=${COURIER_TEST_CLAMD_DIR:-/tmp/courier-test-clamd}
answers() { printf 'zPING\0' | timeout 2 bash -c "cat >/dev/tcp/127.0.0.1/$port" 2>/dev/null; }
case "${1:-start}" in
start)
    if ! answers; then
        # clamd writes every scanned stream to its TemporaryDirectory: keep it in memory, as
        # docs/scanning.md asks of deployments (a plain directory only where /dev/shm is missing).
        tmp="$dir/tmp"
        [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm/courier-test-clamd
        rm -rf "$dir/db" && mkdir -p "$dir/db" "$tmp"
        eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
        custom='COURIER-TEST-MALWARE-SAMPLE-0f6c2a91: a harmless file that the test database calls malware'
        {
            printf '%s:%s:Courier.Test.EICAR\n' "$(printf '%s' "$eicar" | md5sum | cut -d' ' -f1)" "${#eicar}"
            printf '%s:%s:Courier.Test.Custom\n' "$(printf '%s' "$custom" | md5sum | cut -d' ' -f1)" "${#custom}"
        } >"$dir/db/courier-test.hdb"
        cat >"$dir/clamd.conf" <<CONF
Foreground yes
LocalSocket $dir/clamd.sock
TCPSocket $port
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
TemporaryDirectory $tmp
LogFile $dir/clamd.log
StreamMaxLength 3000M
MaxScanSize 3000M
MaxFileSize 3000M
MaxThreads 8
CONF
        nohup clamd --config-file="$dir/clamd.conf" >"$dir/stdout.log" 2>&1 &
        for _ in $(seq 1 100); do
            answers && break
            sleep 0.2
        done
        answers || { cat "$dir/clamd.log" "$dir/stdout.log" >&2; echo "clamd did not start" >&2; exit 1; }
    fi
    echo "127.0.0.1:$port"
    ;;
stop)
    pkill -f "clamd --config-file=$dir/clamd.conf" || true
    ;;
*)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
