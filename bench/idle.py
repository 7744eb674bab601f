#!/usr/bin/env python3
"""Idle memory: a fresh `courier serve` (embedded defaults, new data directory) for each
binary given, in interleaved rounds; reads /proc/PID/status after it answers /healthz and has
sat idle for --settle seconds. Prints VmRSS (what issue 18's "idle server at most 32 MiB"
counts), its anonymous and file-backed parts, and VmHWM, each binary's median.

    python3 bench/idle.py BINARY [OTHER_BINARY ...] [--rounds 3] [--settle 4]

Needs: release builds (`cargo build --release -p courier-cli`).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from start import one_start  # noqa: E402

FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


def status_kib(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in FIELDS:
                values[key] = int(rest.split()[0])
    return values


def evict_from_page_cache(path):
    # How the file came into the page cache (written by the linker, copied, read by faults)
    # decides the size of its folios, and the kernel maps a whole folio on a fault: evicting
    # it first makes every start read the binary as a start after a reboot does.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def one_idle(binary, data_dir, settle):
    evict_from_page_cache(binary)
    env = dict(os.environ, COURIER_DATA_DIR=data_dir, RUST_LOG="warn")
    env.pop("COURIER_CONFIG", None)

    def read_when_idle(proc):
        time.sleep(settle)
        return status_kib(proc.pid)

    return one_start(binary, env, read_when_idle)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", type=float, default=4.0)
    args = parser.parse_args()
    readings = {b: [] for b in args.binaries}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for i, b in enumerate(args.binaries):
                # A new data directory each time: the first start of a fresh installation.
                readings[b].append(one_idle(b, os.path.join(tmp, f"data-{r}-{i}"), args.settle))
    for b in args.binaries:
        medians = {k: statistics.median(x[k] for x in readings[b]) / 1024 for k in FIELDS}
        rounds = ", ".join(f"{x['VmRSS'] / 1024:.1f}" for x in readings[b])
        print(
            f"{b}: VmRSS {medians['VmRSS']:.1f} MiB (rounds {rounds}), "
            f"anon {medians['RssAnon']:.1f}, file {medians['RssFile']:.1f}, "
            f"VmHWM {medians['VmHWM']:.1f}"
        )


if __name__ == "__main__":
    main()
