#!/usr/bin/env python3
"""Backend benchmark: SQLite + local directory against PostgreSQL + S3 (Garage), same files.

Measures, for each backend pair, in one run:
  * upload and download MB/s of one file (default 256 MiB; median of --rounds);
  * with S3, a plain S3 PUT (of new random bytes each round) and GET to the same Garage (curl
    --aws-sigv4), each round right after Courier's, as the baseline of the PostgreSQL + S3
    figures; --pin gives Garage a core of its own, as a production store has;
  * p99 latency of a staff page listing one portal's documents (a page of 100) with 1,000,000
    documents in the database (rows inserted by SQL; target p99 <= 10 ms): the first page, and
    a page from the middle of the portal (the cursor the "older" link carries).

Needs a release build, and (as root) Debian's postgresql and the garage binary:
    bench/backends.sh [--size-mib 256] [--documents 1000000] [--lists-only] [--pin]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transit  # noqa: E402

MIB = 1024 * 1024
ROOT = transit.ROOT


def shell_env(script):
    out = subprocess.run(["bash", os.path.join(ROOT, ".ci", script)], capture_output=True, text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, v = line[len("export "):].split("=", 1)
            env[k] = v
    return env, out.strip()


# Ids are UUIDs (a page's cursor carries one and is refused otherwise): the number in the last group.
PORTAL_ID = "00000000-0000-4000-9000-{:012x}"
DOCUMENT_ID = "00000000-0000-4000-8000-{:012x}"


def seed_sql(backend, docs, per_portal):
    portals = docs // per_portal
    gen = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
    if backend == "sqlite":
        token = "randomblob(32)"
        pid = "printf('00000000-0000-4000-9000-%012x', {n})"
        did = "printf('00000000-0000-4000-8000-%012x', {n})"
    else:
        token = "decode(md5(i::text || 'portal'), 'hex') || decode(md5(i::text), 'hex')"
        pid = "'00000000-0000-4000-9000-' || lpad(to_hex({n}), 12, '0')"
        did = "'00000000-0000-4000-8000-' || lpad(to_hex({n}), 12, '0')"
    return [
        gen.format(count=portals) + f""" INSERT INTO portals (id, label, token_hash, max_file_size, enabled, created_by, created_at)
            SELECT {pid.format(n='i')}, 'Bench ' || i, {token}, 1000000, 1, 'cli:bench', i FROM n""",
        gen.format(count=docs) + f""" INSERT INTO documents (id, portal_id, name, size, content_type, sha256, blob_key, wrapped_dek, uploaded_at)
            SELECT {did.format(n='i')}, {pid.format(n=f'1 + (i % {portals})')}, 'doc-' || i || '.pdf', 1000, 'application/pdf',
                   '00', 'bench-b' || i, NULL, i FROM n""",
    ]


def seed(backend, db_url, data_dir, docs, per_portal):
    statements = seed_sql(backend, docs, per_portal)
    if backend == "sqlite":
        import sqlite3
        con = sqlite3.connect(os.path.join(data_dir, "courier.db"))
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()
    else:
        # VACUUM ANALYZE as autovacuum would soon after a bulk load (and not in the middle of
        # the measurement): without statistics PostgreSQL plans the portal's counts as if the
        # table were empty (a first page took 175 ms).
        for s in statements + ["VACUUM ANALYZE"]:
            subprocess.run(["psql", db_url, "-v", "ON_ERROR_STOP=1", "-qc", s], check=True)


def p99_ms(base, cookie, path, n):
    host = base.split("//")[1]
    conn = http.client.HTTPConnection(host)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        resp = conn.getresponse()
        body = resp.read()
        times.append((time.perf_counter() - t) * 1000)
        assert resp.status == 200, resp.status
    times.sort()
    return times[int(len(times) * 0.99) - 1], statistics.median(times), body.count(b'/download"')


def courier_s3_env(s3, prefix):
    """Courier's environment for blobs in the Garage of `s3` (`.ci/garage.sh`), under `prefix`."""
    return {
        "COURIER_BLOB_STORE": f"s3://{s3['COURIER_TEST_S3_BUCKET']}/{prefix}",
        "COURIER_S3_ENDPOINT": s3["COURIER_TEST_S3_ENDPOINT"],
        "COURIER_S3_REGION": s3["COURIER_TEST_S3_REGION"],
        "COURIER_S3_ACCESS_KEY_ID": s3["COURIER_TEST_S3_ACCESS_KEY_ID"],
        "COURIER_S3_SECRET_ACCESS_KEY": s3["COURIER_TEST_S3_SECRET_ACCESS_KEY"],
    }


def courier_on_s3(binary, work, port, s3, prefix, big):
    """A fresh server of `binary` on SQLite with its blobs in Garage under `prefix`, holding
    `big` as one portal upload, a lawyer signed in: (server, the document's id)."""
    os.environ.update(courier_s3_env(s3, prefix))
    transit.BIN = binary
    c = transit.Courier(work, port)
    try:
        token = c.portal()
        transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F",
                       f"file=@{big}", f"{c.base}/p/{token}/files"])
        c.login()
        return c, c.cli("doc", "list", "--json")[0]["id"]
    except BaseException:
        c.stop()
        raise


def pin_garage(pinned):
    """Garage's threads on core 0, this process (and what it starts from now on) on core 1, as
    a production store has cores of its own. Each pinned process's cores are noted in `pinned`
    first; call `unpin_garage(pinned)` in a `finally`. SIGTERM then unwinds like Ctrl-C, so
    Garage, which the tests reuse, always gets its cores back."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    cfg = os.path.join(os.environ.get("COURIER_TEST_GARAGE_DIR", "/tmp/courier-test-garage"), "garage.toml")
    found = subprocess.run(["pgrep", "-f", f"garage -c {cfg} server"], capture_output=True, text=True)
    garage = found.stdout.split()
    if len(os.sched_getaffinity(0)) < 2 or not garage:
        sys.exit("--pin needs two cores and the Garage of .ci/garage.sh")
    for pid in garage:
        pinned[pid] = os.sched_getaffinity(int(pid))
        subprocess.run(["taskset", "-acp", "0", pid], check=True, capture_output=True)
    os.sched_setaffinity(0, {1})


def unpin_garage(pinned):
    """Gives each process `pin_garage` pinned its cores back."""
    for pid, cores in pinned.items():
        cpus = ",".join(str(c) for c in sorted(cores))
        if subprocess.run(["taskset", "-acp", cpus, pid], capture_output=True).returncode != 0:
            print(f"could not give garage (pid {pid}) its cores back: taskset -acp {cpus} {pid}", file=sys.stderr)


def plain_s3(s3, method, big, key):
    """Seconds for one plain S3 PUT (of `big`) or GET (to /dev/null) of `key`, signed by curl.
    A PUT's baseline is fair only with bytes Garage has not seen: it keeps one copy of a block
    (content-addressed), so sending the same file again skips its writes."""
    url = f"{s3['COURIER_TEST_S3_ENDPOINT']}/{s3['COURIER_TEST_S3_BUCKET']}/{key}"
    sign = ["--aws-sigv4", f"aws:amz:{s3['COURIER_TEST_S3_REGION']}:s3",
            "--user", f"{s3['COURIER_TEST_S3_ACCESS_KEY_ID']}:{s3['COURIER_TEST_S3_SECRET_ACCESS_KEY']}",
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    body = ["-T", big] if method == "PUT" else []
    return transit.timed(["curl", "-sf", "-o", "/dev/null", *sign, *body, url])


def run_backend(name, extra_env, work, big, size, rounds, docs, lists_only, s3=None):
    results = {}
    os.environ.update(extra_env)
    try:
        c = transit.Courier(work, 18400 + len(name))
        try:
            token = c.portal()
            c.login()
            if not lists_only:
                ups, downs, puts, gets = [], [], [], []
                key = f"plain-bench-{os.getpid()}"
                for _ in range(rounds):
                    os.sync()
                    t = transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F",
                                       f"file=@{big}", f"{c.base}/p/{token}/files"])
                    ups.append(size / t / 1e6)
                    if s3:
                        # New bytes each round: Garage writes no block it holds already, and
                        # Courier's ciphertext is new with every upload. (The blocks the key held
                        # before are collected by Garage in the background.)
                        transit.make_file(big, size)
                        os.sync()
                        puts.append(size / plain_s3(s3, "PUT", big, key) / 1e6)
                doc = c.cli("doc", "list", "--json")[0]["id"]
                for _ in range(rounds):
                    t = transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {c.cookie}",
                                       f"{c.base}/documents/{doc}/download"])
                    downs.append(size / t / 1e6)
                    if s3:
                        gets.append(size / plain_s3(s3, "GET", big, key) / 1e6)
                results["upload_mb_s"] = statistics.median(ups)
                results["download_mb_s"] = statistics.median(downs)
                if s3:
                    results["s3_put_mb_s"] = statistics.median(puts)
                    results["s3_get_mb_s"] = statistics.median(gets)
                    results["rounds"] = (ups, puts, downs, gets)
            backend = "sqlite" if name.startswith("sqlite") else "postgres"
            t = time.perf_counter()
            seed(backend, extra_env.get("COURIER_DATABASE_URL"), c.data, docs, 1000)
            results["seed_s"] = time.perf_counter() - t
            # Portal 7 holds documents 7 + 1000k - 1 (k = 0 ..); the middle one is the cursor of
            # a page halfway down its list, as the "older" link would carry it.
            portal = PORTAL_ID.format(7)
            middle = 6 + 1000 * (docs // 1000 // 2)
            deep = f"/portals/{portal}?after={middle}.{DOCUMENT_ID.format(middle)}"
            for key, path in (("first", f"/portals/{portal}"), ("deep", deep)):
                p99_ms(c.base, c.cookie, path, 100)  # warm-up: caches, the page cache after seeding
                p99, median, listed = p99_ms(c.base, c.cookie, path, 1000)
                assert listed == 100, (path, listed)
                results[f"{key}_p99_ms"] = p99
                results[f"{key}_median_ms"] = median
        finally:
            c.stop()
    finally:
        for k in extra_env:
            os.environ.pop(k, None)
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--documents", type=int, default=1_000_000)
    ap.add_argument("--lists-only", action="store_true", help="skip the upload and download, seed and list only")
    ap.add_argument("--pin", action="store_true",
                    help="Garage on core 0, everything this starts on core 1 (a PostgreSQL running already keeps its cores)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="backends-", dir=os.path.join(ROOT, "target"))
    size = args.size_mib * MIB
    big = os.path.join(work, "big.bin")
    transit.make_file(big, size)

    pg_admin = subprocess.run(["bash", os.path.join(ROOT, ".ci", "postgres.sh")], capture_output=True, text=True, check=True).stdout.strip()
    # Lists read only the database: --lists-only needs no Garage (the blobs stay local).
    s3 = None if args.lists_only else shell_env("garage.sh")[0]
    db_name = f"courier_bench_{os.getpid()}"
    subprocess.run(["psql", pg_admin, "-qc", f"CREATE DATABASE {db_name}"], check=True)
    pg_url = pg_admin.rsplit("/", 1)[0] + "/" + db_name
    cluster_env = {"COURIER_DATABASE_URL": pg_url}
    if s3 is not None:
        cluster_env.update(courier_s3_env(s3, f"bench-{os.getpid()}"))
    pinned = {}
    try:
        if args.pin and s3 is not None:
            pin_garage(pinned)
        local = run_backend("sqlite+local", {}, work, big, size, args.rounds, args.documents, args.lists_only)
        cluster = run_backend("postgres+s3", cluster_env, work, big, size, args.rounds, args.documents, args.lists_only,
                              s3)
    finally:
        unpin_garage(pinned)
    subprocess.run(["psql", pg_admin, "-qc", f"DROP DATABASE {db_name} WITH (FORCE)"], check=True)

    def cell(r, key, fmt):
        return fmt.format(r[key]) if key in r else "-"

    def ratio(key):
        return f"{cluster[key] / local[key]:.2f}" if key in local else "-"

    print(f"""
| measure ({args.size_mib} MiB file, median of {args.rounds}) | SQLite + local | {"PostgreSQL + local" if s3 is None else "PostgreSQL + S3 (Garage)"} | ratio |
|---|---|---|---|
| upload MB/s | {cell(local, 'upload_mb_s', '{:.0f}')} | {cell(cluster, 'upload_mb_s', '{:.0f}')} | {ratio('upload_mb_s')} |
| download MB/s | {cell(local, 'download_mb_s', '{:.0f}')} | {cell(cluster, 'download_mb_s', '{:.0f}')} | {ratio('download_mb_s')} |
| seeding {args.documents:,} documents by SQL | {local['seed_s']:.0f} s | {cluster['seed_s']:.0f} s | |
| one portal's first page (100 of 1,000) among {args.documents:,} documents, p99 | {local['first_p99_ms']:.1f} ms | {cluster['first_p99_ms']:.1f} ms | target <= 10 ms |
| same, median | {local['first_median_ms']:.1f} ms | {cluster['first_median_ms']:.1f} ms | |
| a page from the middle of that portal, p99 | {local['deep_p99_ms']:.1f} ms | {cluster['deep_p99_ms']:.1f} ms | target <= 10 ms |
| same, median | {local['deep_median_ms']:.1f} ms | {cluster['deep_median_ms']:.1f} ms | |
""")
    if "s3_put_mb_s" in cluster:
        pinned_note = ", Garage on core 0" if pinned else ""
        print(f"""| PostgreSQL + S3 against plain S3 (same Garage, new bytes for each PUT, interleaved{pinned_note}) | Courier MB/s | plain S3 MB/s | ratio (target >= 0.8) |
|---|---|---|---|
| upload / PUT | {cluster['upload_mb_s']:.0f} | {cluster['s3_put_mb_s']:.0f} | {cluster['upload_mb_s'] / cluster['s3_put_mb_s']:.2f} |
| download / GET | {cluster['download_mb_s']:.0f} | {cluster['s3_get_mb_s']:.0f} | {cluster['download_mb_s'] / cluster['s3_get_mb_s']:.2f} |

rounds (MB/s): upload {', '.join(f'{x:.0f}' for x in cluster['rounds'][0])}; PUT {', '.join(f'{x:.0f}' for x in cluster['rounds'][1])}; download {', '.join(f'{x:.0f}' for x in cluster['rounds'][2])}; GET {', '.join(f'{x:.0f}' for x in cluster['rounds'][3])}
""")


if __name__ == "__main__":
    main()
