#!/usr/bin/env python3
"""Downloads from S3, two or more builds side by side: each binary runs a server on SQLite with
its blobs in Garage (`.ci/garage.sh`), takes one portal upload of --size-mib, and serves it to
a signed-in lawyer over HTTP --rounds times; right after each download, curl makes a plain S3
`GET` of the same number of bytes from the same Garage (`--aws-sigv4`), the baseline of that
round. Binaries alternate download by download. Prints each binary's median MB/s, the plain
`GET`s' median in the same minutes, and the ratio (issue 18's target: at least 0.8).

    python3 bench/s3_download.py BASELINE_BINARY OTHER_BINARY [...] [--size-mib 256] [--rounds 5] [--pin]

--pin gives Garage the first core and this script, its servers and curl the second, as a
production store would have cores of its own: a Garage `GET` streams on about one core here,
so on a shared 2-core machine every cycle Courier spends slows the store down.

Needs: curl, garage (as `.ci/garage.sh` finds it), release builds. Run by hand, never in CI.
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backends  # noqa: E402
import transit  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pin", action="store_true", help="Garage on core 0, everything else on core 1")
    ap.add_argument("--workdir", default=os.path.join(transit.ROOT, "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="s3-download-", dir=args.workdir)
    s3 = backends.shell_env("garage.sh")[0]
    pinned = {}
    servers = []
    try:
        if args.pin:
            backends.pin_garage(pinned)
        size = args.size_mib * transit.MIB
        big = os.path.join(work, "big.bin")
        transit.make_file(big, size)
        key = f"plain-bench-{os.getpid()}"
        backends.plain_s3(s3, "PUT", big, key)
        for i, binary in enumerate(args.binaries):
            servers.append(backends.courier_on_s3(binary, work, 18600 + i, s3, f"bench-{os.getpid()}-{i}", big))
        downs = {b: [] for b in args.binaries}
        gets = {b: [] for b in args.binaries}
        for _ in range(args.rounds):
            for binary, (c, doc) in zip(args.binaries, servers):
                t = transit.timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {c.cookie}",
                                   f"{c.base}/documents/{doc}/download"])
                downs[binary].append(size / t / 1e6)
                gets[binary].append(size / backends.plain_s3(s3, "GET", big, key) / 1e6)
        how = ", Garage on core 0, Courier and curl on core 1" if args.pin else ""
        print(f"\nS3 download, {args.size_mib} MiB, median of {args.rounds}, builds alternating{how}\n")
        print("| binary | download MB/s | plain GET MB/s (same rounds) | ratio | rounds (download) |")
        print("|---|---|---|---|---|")
        for b in args.binaries:
            d, g = statistics.median(downs[b]), statistics.median(gets[b])
            print(f"| {b} | {d:.0f} | {g:.0f} | {d / g:.2f} | {', '.join(f'{x:.0f}' for x in downs[b])} |")
    finally:
        for c, _ in servers:
            c.stop()
        backends.unpin_garage(pinned)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
