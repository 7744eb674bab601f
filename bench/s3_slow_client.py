#!/usr/bin/env python3
"""A slow client downloading from S3, for each binary given: a server on SQLite with its blobs
in Garage (`.ci/garage.sh`) takes one portal upload of --size-mib, and a signed-in lawyer
downloads it with `curl --limit-rate` (--rate-kib KiB/s), so the download lasts longer than
`object_store`'s 30 s per request and its 3 minutes of retries. Prints, per binary, whether the
whole file came back, how many bytes did, and how long it took. Run by hand (minutes, mostly
waiting), never in CI; the binaries run one after the other.

    python3 bench/s3_slow_client.py BINARY [...] [--size-mib 48] [--rate-kib 192]
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backends  # noqa: E402
import transit  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--size-mib", type=int, default=48)
    ap.add_argument("--rate-kib", type=int, default=192)
    ap.add_argument("--workdir", default=os.path.join(transit.ROOT, "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="s3-slow-", dir=args.workdir)
    s3 = backends.shell_env("garage.sh")[0]
    size = args.size_mib * transit.MIB
    big = os.path.join(work, "big.bin")
    transit.make_file(big, size)
    with open(big, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    print(f"\nS3 download of {args.size_mib} MiB at {args.rate_kib} KiB/s "
          f"(about {size / 1024 / args.rate_kib:.0f} s)\n")
    print("| binary | whole file | bytes received | seconds |")
    print("|---|---|---|---|")
    try:
        for i, binary in enumerate(args.binaries):
            c, doc = backends.courier_on_s3(binary, work, 18700 + i, s3, f"slow-{os.getpid()}-{i}", big)
            try:
                out = os.path.join(work, f"down-{i}")
                start = time.perf_counter()
                subprocess.run(["curl", "-s", "-o", out, "--limit-rate", f"{args.rate_kib}k", "-H",
                                f"Cookie: {c.cookie}", f"{c.base}/documents/{doc}/download"])
                took = time.perf_counter() - start
                with open(out, "rb") as f:
                    got = f.read()
                whole = hashlib.sha256(got).hexdigest() == want
                print(f"| {binary} | {'yes' if whole else 'NO'} | {len(got):,} of {size:,} | {took:.0f} |", flush=True)
            finally:
                c.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
