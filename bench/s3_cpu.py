#!/usr/bin/env python3
"""Where the CPU goes when Courier runs on PostgreSQL + S3: CPU seconds per GiB moved, by
process (Courier, Garage, PostgreSQL, curl), for Courier's upload and download and for a plain
S3 PUT and GET of the same file to the same Garage, interleaved round by round.

On a machine where all of them share the cores, the transfer rate is bounded by the sum of
their CPU time per byte; this shows which share each takes (docs/performance.md, "PostgreSQL +
S3 against plain S3"). CPU time is read from /proc (utime + stime of each process, all threads;
curl's from the children's rusage), before and after each transfer.

Needs a release build, and (as root) Debian's postgresql and the garage binary:
    cargo build --release && python3 bench/s3_cpu.py [--size-mib 512] [--rounds 3]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backends  # noqa: E402
import transit  # noqa: E402

MIB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def pids_named(name):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == name:
                        out.append(int(p))
            except OSError:
                pass
    return out


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def snapshot(courier_pid):
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "courier": cpu_seconds(courier_pid),
        "garage": sum(cpu_seconds(p) for p in pids_named("garage")),
        "postgres": sum(cpu_seconds(p) for p in pids_named("postgres")),
        "curl": children.ru_utime + children.ru_stime,
        "machine": machine_busy(),
    }


def measure(courier_pid, cmd, size):
    before = snapshot(courier_pid)
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - t
    after = snapshot(courier_pid)
    gib = size / (1024 * MIB)
    row = {k: (after[k] - before[k]) / gib for k in ("courier", "garage", "postgres", "curl")}
    busy = after["machine"][0] - before["machine"][0]
    total = after["machine"][1] - before["machine"][1]
    row["busy"] = busy / total if total else 0.0
    row["mb_s"] = size / wall / 1e6
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="s3cpu-", dir=os.path.join(transit.ROOT, "target"))
    size = args.size_mib * MIB
    big = os.path.join(work, "big.bin")
    transit.make_file(big, size)
    pg_admin = subprocess.run(["bash", os.path.join(transit.ROOT, ".ci", "postgres.sh")], capture_output=True,
                              text=True, check=True).stdout.strip()
    s3 = backends.shell_env("garage.sh")[0]
    db_name = f"courier_s3cpu_{os.getpid()}"
    subprocess.run(["psql", pg_admin, "-qc", f"CREATE DATABASE {db_name}"], check=True)
    os.environ.update({
        "COURIER_DATABASE_URL": pg_admin.rsplit("/", 1)[0] + "/" + db_name,
        "COURIER_BLOB_STORE": f"s3://{s3['COURIER_TEST_S3_BUCKET']}/s3cpu-{os.getpid()}",
        "COURIER_S3_ENDPOINT": s3["COURIER_TEST_S3_ENDPOINT"],
        "COURIER_S3_REGION": s3["COURIER_TEST_S3_REGION"],
        "COURIER_S3_ACCESS_KEY_ID": s3["COURIER_TEST_S3_ACCESS_KEY_ID"],
        "COURIER_S3_SECRET_ACCESS_KEY": s3["COURIER_TEST_S3_SECRET_ACCESS_KEY"],
    })
    c = transit.Courier(work, 18490)
    rows = {"upload": [], "PUT": [], "download": [], "GET": []}
    try:
        token = c.portal()
        c.login()
        url = f"{s3['COURIER_TEST_S3_ENDPOINT']}/{s3['COURIER_TEST_S3_BUCKET']}/s3cpu-plain-{os.getpid()}"
        sign = ["--aws-sigv4", f"aws:amz:{s3['COURIER_TEST_S3_REGION']}:s3",
                "--user", f"{s3['COURIER_TEST_S3_ACCESS_KEY_ID']}:{s3['COURIER_TEST_S3_SECRET_ACCESS_KEY']}",
                "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
        for _ in range(args.rounds):
            os.sync()
            rows["upload"].append(measure(c.proc.pid, ["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json",
                                                       "-F", f"file=@{big}", f"{c.base}/p/{token}/files"], size))
            # New blocks: Garage writes no block it holds already (the old ones are collected
            # in the background).
            transit.make_file(big, size)
            os.sync()
            rows["PUT"].append(measure(c.proc.pid, ["curl", "-sf", "-o", "/dev/null", *sign, "-T", big, url], size))
        doc = c.cli("doc", "list", "--json")[0]["id"]
        for _ in range(args.rounds):
            rows["download"].append(measure(c.proc.pid, ["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {c.cookie}",
                                                         f"{c.base}/documents/{doc}/download"], size))
            rows["GET"].append(measure(c.proc.pid, ["curl", "-sf", "-o", "/dev/null", *sign, url], size))
    finally:
        c.stop()
        subprocess.run(["psql", pg_admin, "-qc", f"DROP DATABASE {db_name} WITH (FORCE)"], check=False)

    print(f"binary: {transit.BIN}; {args.size_mib} MiB, median of {args.rounds} rounds")
    print("| transfer | MB/s | CPU s per GiB: Courier | Garage | PostgreSQL | curl | sum | both cores busy |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rs in rows.items():
        med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        total = med["courier"] + med["garage"] + med["postgres"] + med["curl"]
        print(f"| {name} | {med['mb_s']:.0f} | {med['courier']:.2f} | {med['garage']:.2f} | {med['postgres']:.2f} | "
              f"{med['curl']:.2f} | {total:.2f} | {med['busy'] * 100:.0f} % |")


if __name__ == "__main__":
    main()
