#!/usr/bin/env python3
"""Two or more builds side by side: for each binary, in interleaved rounds, a fresh server
(embedded defaults) takes one portal upload of --size-mib (incompressible bytes behind a PNG
signature, so the type check and DLP run but find no text) and serves it back to a signed-in
lawyer over HTTP; then takes the same file as a resumable (tus) upload in one PATCH. The disk
is flushed before each transfer. Prints each binary's median MB/s and its ratio to the first
binary's, so a change to the build (a profile setting, a dependency) can be weighed against
the same machine in the same minutes.

    python3 bench/compare.py BASELINE_BINARY OTHER_BINARY [...] [--size-mib 256] [--rounds 5]

Needs: curl, release builds.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transit  # noqa: E402


def one_round(binary, work, big, size, port):
    transit.BIN = binary
    c = transit.Courier(work, port)
    try:
        token = c.portal()
        os.sync()
        up = transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F", f"file=@{big}",
                            f"{c.base}/p/{token}/files"])
        c.login()
        doc = c.cli("doc", "list", "--json")[0]["id"]
        os.sync()
        down = transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {c.cookie}",
                              f"{c.base}/documents/{doc}/download"])
        os.sync()
        tus = c.tus_upload(token, big)
        return size / up / 1e6, size / down / 1e6, size / tus / 1e6
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workdir", default=os.path.join(transit.ROOT, "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="compare-", dir=args.workdir)
    try:
        size = args.size_mib * transit.MIB
        big = os.path.join(work, "big.bin")
        transit.make_file(big, size)
        rounds = {b: ([], [], []) for b in args.binaries}
        for r in range(args.rounds):
            for i, b in enumerate(args.binaries):
                for kept, figure in zip(rounds[b], one_round(b, work, big, size, 18500 + i)):
                    kept.append(figure)
        base = [statistics.median(x) for x in rounds[args.binaries[0]]]
        for b in args.binaries:
            medians = [statistics.median(x) for x in rounds[b]]
            print(f"{b}: " + ", ".join(
                f"{what} {m:.0f} MB/s ({m / b0:.2f}x; rounds {[round(x) for x in all_]})"
                for what, m, b0, all_ in zip(("upload", "download", "tus upload"), medians, base, rounds[b])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
