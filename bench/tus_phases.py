#!/usr/bin/env python3
"""Where a resumable (tus) upload's time goes: the append and the finish, timed apart.

Each round opens an upload, PATCHes every byte but the last (the append: sealed into the
partial file and synced), then the last byte (the finish: the last segment sealed, the file
read back, hashed and checked, kept as the document). One PATCH from the first byte, what
bench/transit.py times, also hashes as it appends; this split does not.

Run by hand, not in CI, after cargo build --release:
    python3 bench/tus_phases.py [--size-mib 256] [--rounds 3]
COURIER_BENCH_BIN measures another build with the same script.
"""

import argparse
import os
import tempfile
import time

import transit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    size = args.size_mib * transit.MIB
    with tempfile.TemporaryDirectory(prefix="courier-tus-bench-") as work:
        big = os.path.join(work, "big.bin")
        transit.make_file(big, size)
        with open(big, "rb") as f:
            data = f.read()
        head, last = os.path.join(work, "head.bin"), os.path.join(work, "last.bin")
        with open(head, "wb") as f:
            f.write(data[:-1])
        with open(last, "wb") as f:
            f.write(data[-1:])
        del data
        c = transit.Courier(work, 18097)
        try:
            token = c.portal()
            for _ in range(args.rounds):
                url = c.tus_create(token, "big.bin", size)
                os.sync()
                phases = []
                for part, offset in ((head, 0), (last, size - 1)):
                    start = time.perf_counter()
                    c.tus_patch(url, part, offset)
                    phases.append(time.perf_counter() - start)
                append, finish = phases
                print(f"append {size / append / 1e6:.0f} MB/s ({append:.2f} s)   "
                      f"finish {size / finish / 1e6:.0f} MB/s ({finish:.2f} s)", flush=True)
        finally:
            c.stop()


if __name__ == "__main__":
    main()
