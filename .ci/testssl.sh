#!/usr/bin/env bash
# Debian's testssl.sh against Courier terminating TLS itself; fails on any finding of severity
# MEDIUM or worse. The certificate comes from a throwaway CA that testssl is told to trust
# (90 days, with a CRL distribution point, like a real one), so what is judged is Courier's
# TLS: protocols, ciphers, their order, key exchange, renegotiation, known attacks, headers.
#   .ci/testssl.sh [path/to/courier]   (default target/debug/courier)
set -euo pipefail
bin=${1:-target/debug/courier}
port=${COURIER_TESTSSL_PORT:-58443}
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 120 -subj "/CN=Courier CI CA" 2>/dev/null
openssl req "${ec[@]}" -keyout "$dir/key.pem" -out "$dir/leaf.csr" -subj "/CN=localhost" 2>/dev/null
cat >"$dir/ext.cnf" <<EXT
subjectAltName=DNS:localhost,IP:127.0.0.1
basicConstraints=CA:FALSE
keyUsage=digitalSignature
extendedKeyUsage=serverAuth
crlDistributionPoints=URI:http://localhost/ca.crl
EXT
openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -out "$dir/cert.pem" -days 90 -extfile "$dir/ext.cnf" 2>/dev/null

COURIER_DATA_DIR="$dir/data" COURIER_TLS_CERT="$dir/cert.pem" COURIER_TLS_KEY="$dir/key.pem" \
    "$bin" serve --bind "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
    grep -q "Courier is listening on https://" "$dir/serve.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
    sleep 0.5
done

testssl --quiet --color 0 --warnings off --add-ca "$dir/ca.pem" --jsonfile "$dir/testssl.json" \
    "https://localhost:$port/login" >"$dir/testssl.txt" 2>&1 || true
if ! grep -q '"id" *: *"TLS1_3"' "$dir/testssl.json" 2>/dev/null; then
    echo "testssl did not complete:" >&2
    cat "$dir/testssl.txt" >&2
    exit 1
fi
findings=$(grep -cE '"severity" *: *"(MEDIUM|HIGH|CRITICAL)"' "$dir/testssl.json" || true)
total=$(grep -c '"severity"' "$dir/testssl.json")
if [ "$findings" -gt 0 ]; then
    echo "testssl: $findings of $total findings are MEDIUM or worse:" >&2
    grep -E -B3 -A2 '"severity" *: *"(MEDIUM|HIGH|CRITICAL)"' "$dir/testssl.json" >&2
    exit 1
fi
echo "testssl: $total findings, none MEDIUM or worse"
for id in SSLv2 SSLv3 TLS1 TLS1_1 TLS1_2 TLS1_3 cipher_order HSTS_time; do
    finding=$(grep -A4 -E "\"id\" *: *\"$id\"" "$dir/testssl.json" | grep -m1 '"finding"' | sed 's/.*"finding" *: *//' || true)
    echo "  $id: $finding"
done
