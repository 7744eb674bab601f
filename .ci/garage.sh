#!/usr/bin/env bash
# A throwaway single-node Garage (S3-compatible distributed object store) for the tests, on
# 127.0.0.1:3900. Needs the `garage` binary (`cargo install --locked garage
# --no-default-features --features bundled-libs,sqlite`). Prints the environment the tests
# read (COURIER_TEST_S3_*), one `export` per line. Idempotent: reuses a running instance.
set -euo pipefail
dir=${COURIER_TEST_GARAGE_DIR:-/tmp/courier-test-garage}
key_id=GK0123456789abcdef01234567
secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
bucket=courier-test
cfg=$dir/garage.toml
g() { garage -c "$cfg" "$@"; }

if ! (exec 3<>/dev/tcp/127.0.0.1/3900) 2>/dev/null; then
    rm -rf "$dir" && mkdir -p "$dir"
    cat > "$cfg" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:3900"
root_domain = ".s3.garage.localhost"
TOML
    nohup garage -c "$cfg" server > "$dir/server.log" 2>&1 &
    for _ in $(seq 1 50); do
        g status >/dev/null 2>&1 && break
        sleep 0.2
    done
    node=$(g status 2>/dev/null | awk '/NO ROLE ASSIGNED|127.0.0.1:3901/ {print $1; exit}')
    g layout assign -z dc1 -c 1G "$node" >/dev/null
    g layout apply --version 1 >/dev/null
    g key import --yes "$key_id" "$secret" >/dev/null
    g bucket create "$bucket" >/dev/null
    g bucket allow --read --write --owner "$bucket" --key "$key_id" >/dev/null
fi
cat <<ENV
export COURIER_TEST_S3_ENDPOINT=http://127.0.0.1:3900
export COURIER_TEST_S3_REGION=garage
export COURIER_TEST_S3_BUCKET=$bucket
export COURIER_TEST_S3_ACCESS_KEY_ID=$key_id
export COURIER_TEST_S3_SECRET_ACCESS_KEY=$secret
ENV
