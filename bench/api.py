#!/usr/bin/env python3
"""API throughput on PostgreSQL: 8 clients with personal API tokens, each on its own keep-alive
connection, calling GET /api/v1/portals as fast as they can. Every API request is audited
(`api_token.used`), so this measures how many audited transactions the chain's head row lets
through at once.

Reports requests per second (median of --rounds rounds of --seconds each) and the same for one
client, so the figure is a ratio to a baseline measured in the same run. Run it on two builds
(COURIER_BENCH_BIN=path/to/old/courier) to compare commits. Needs a release build and, as root,
Debian's postgresql:
    bench/api.sh [--clients 8] [--seconds 10] [--rounds 3]
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transit  # noqa: E402

ROOT = transit.ROOT


def hammer(host, token, seconds, counts, index, path):
    conn = http.client.HTTPConnection(host)
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        done += 1
    counts[index] = done


def rate(c, tokens, clients, seconds, path="/api/v1/portals"):
    counts = [0] * clients
    threads = [threading.Thread(target=hammer, args=(c.base.split("//")[1], tokens[i % len(tokens)], seconds, counts, i,
                                                     path))
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="api-", dir=os.path.join(ROOT, "target"))
    pg_admin = subprocess.run(["bash", os.path.join(ROOT, ".ci", "postgres.sh")], capture_output=True, text=True,
                              check=True).stdout.strip()
    db_name = f"courier_api_bench_{os.getpid()}"
    subprocess.run(["psql", pg_admin, "-qc", f"CREATE DATABASE {db_name}"], check=True)
    os.environ["COURIER_DATABASE_URL"] = pg_admin.rsplit("/", 1)[0] + "/" + db_name
    c = transit.Courier(work, 18470, extra_config="rate_limit_per_minute = 100000000\n")
    try:
        tokens = []
        for i in range(args.clients):
            email = f"api{i}@firm.example"
            c.cli("user", "create", "--email", email, "--role", "attorney", "--password-stdin", "--json",
                  stdin=transit.PASSWORD + "\n")
            tokens.append(c.cli("token", "create", "--email", email, "--name", "bench", "--scope", "portals:read",
                                "--json")["token"])
        for i in range(5):
            c.cli("portal", "create", "--label", f"bench {i}", "--json")
        rate(c, tokens, args.clients, 2)  # warm up
        one, many, ceiling = [], [], []
        for _ in range(args.rounds):
            one.append(rate(c, tokens, 1, args.seconds))
            many.append(rate(c, tokens, args.clients, args.seconds))
            # The same clients on /healthz (no database, no audit): what this harness and HTTP
            # reach on this machine, the ceiling for the audited figure.
            ceiling.append(rate(c, tokens, args.clients, args.seconds, "/healthz"))
        one, many, ceiling = statistics.median(one), statistics.median(many), statistics.median(ceiling)
        print(f"binary: {transit.BIN}")
        print(f"1 client:  {one:8.0f} requests/s")
        print(f"{args.clients} clients: {many:8.0f} requests/s  ({many / one:.2f}x one client)")
        print(f"{args.clients} clients on /healthz: {ceiling:8.0f} requests/s  (audited = {many / ceiling:.2f} of it)")
        events = subprocess.run(["psql", os.environ["COURIER_DATABASE_URL"], "-tAc", "SELECT count(*) FROM audit_events"],
                                capture_output=True, text=True, check=True).stdout.strip()
        print(f"audit events written: {events}")
    finally:
        c.stop()
        subprocess.run(["psql", pg_admin, "-qc", f"DROP DATABASE {db_name} WITH (FORCE)"], check=False)
        os.environ.pop("COURIER_DATABASE_URL", None)


if __name__ == "__main__":
    main()
