#!/usr/bin/env python3
"""`courier doc get` against `cat` of the same file, interleaved round by round.

Two comparisons, each the median of --rounds rounds, the page cache dropped of the source
before every copy (as root: `echo 1 > /proc/sys/vm/drop_caches`; otherwise both read from cache):
  * to a file: `courier doc get ID --output F --force` (which fsyncs the file before naming it)
    against `cat SRC > F && sync -d F`: the same durability, the same disk;
  * to a pipe: `courier doc get ID --output -` against `cat SRC` into /dev/null through a pipe:
    reading and decrypting alone.
The source for `cat` is a plaintext copy of the document on the same file system as the blob.

    bench/docget.sh [--size-mib 1024] [--rounds 3]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transit  # noqa: E402

MIB = transit.MIB


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def timed_shell(cmd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not os.path.exists(transit.BIN):
        sys.exit("build first: cargo build --release")
    work = tempfile.mkdtemp(prefix="docget-", dir=os.path.join(transit.ROOT, "target"))
    size = args.size_mib * MIB
    src = os.path.join(work, "plain.bin")
    out = os.path.join(work, "out.bin")
    transit.make_file(src, size)
    c = transit.Courier(work, 18480)
    try:
        c.upload(c.portal(), src)
        doc = c.cli("doc", "list", "--json")[0]["id"]
        cold = drop_caches()
        samples = {k: [] for k in ("cat_file", "get_file", "cat_pipe", "get_pipe")}
        get = f"{transit.BIN} doc get {doc}"
        for _ in range(args.rounds):
            drop_caches()
            samples["cat_file"].append(timed_shell(f"cat {src} > {out} && sync -d {out}"))
            os.remove(out)
            drop_caches()
            samples["get_file"].append(timed_shell(f"{get} --output {out} --force 2>/dev/null", c.env))
            os.remove(out)
            drop_caches()
            samples["cat_pipe"].append(timed_shell(f"cat {src} | cat > /dev/null"))
            drop_caches()
            samples["get_pipe"].append(timed_shell(f"{get} --output - 2>/dev/null | cat > /dev/null", c.env))
        mb_s = {k: size / statistics.median(v) / 1e6 for k, v in samples.items()}
    finally:
        c.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"""
| {args.size_mib} MiB, median of {args.rounds}{"" if cold else " (page cache NOT dropped: run as root)"} | courier doc get | cat | ratio (target >= 0.85) |
|---|---|---|---|
| to a file, fsynced | {mb_s['get_file']:.0f} MB/s | {mb_s['cat_file']:.0f} MB/s | {mb_s['get_file'] / mb_s['cat_file']:.2f} |
| to a pipe | {mb_s['get_pipe']:.0f} MB/s | {mb_s['cat_pipe']:.0f} MB/s | {mb_s['get_pipe'] / mb_s['cat_pipe']:.2f} |
""")


if __name__ == "__main__":
    main()
