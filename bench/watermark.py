#!/usr/bin/env python3
"""Watermark benchmark: what stamping costs a share download, and the memory it takes.

For a PDF of about --size-mib (legal prose, make_corpus), through the real release server:
  * baseline: `courier doc get` of the same document (decrypt to a file, no stamp);
  * stamped: one share download (`/s/<token>/files/<id>`), whole file decrypted into memory,
    every page stamped, saved;
  * the server's peak RSS growth (VmHWM) over its idle RSS for one stamped download, and for
    4 concurrent ones (at most `watermark_at_once` = 2 are stamped at a time).
Rounds are interleaved; medians are reported, with the ratio stamped / baseline.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "courier")
CORPUS = os.path.join(ROOT, "target", "release", "examples", "make_corpus")


def kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


class Courier:
    def __init__(self, work, port, pdf):
        self.data = tempfile.mkdtemp(prefix="courier-data-", dir=work)
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ, COURIER_DATA_DIR=self.data, COURIER_PUBLIC_URL=self.base, RUST_LOG="warn",
                        COURIER_CONFIG=os.path.join(work, "bench.toml"))
        self.proc = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=self.env,
                                     stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if line.startswith("Courier is listening"):
                break
        matter = self.cli(["matter", "create", "--name", "bench", "--json"])["id"]
        self.doc = self.cli(["doc", "upload", "--matter", matter, pdf, "--json"])["id"]
        self.url = self.cli(["share", "create", "--matter", matter, "--doc", self.doc, "--recipient", "Bench",
                             "--allow-findings", "--json"])["url"]

    def cli(self, args):
        out = subprocess.run([BIN] + args, env=self.env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def doc_get_seconds(self, out):
        start = time.perf_counter()
        subprocess.run([BIN, "doc", "get", self.doc, "--output", out], env=self.env, check=True,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    def stamped_seconds(self, out):
        start = time.perf_counter()
        code = subprocess.run(["curl", "-s", "-o", out, "-w", "%{http_code}", f"{self.url}/files/{self.doc}"],
                              capture_output=True, text=True, check=True).stdout
        assert code == "200", code
        return time.perf_counter() - start

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench"))
    args = ap.parse_args()
    for exe in (BIN, CORPUS):
        if not os.path.exists(exe):
            sys.exit("build first: bench/watermark.sh")
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wm-", dir=args.workdir)
    with open(os.path.join(work, "bench.toml"), "w") as f:
        f.write('watermark_max_size = "256MiB"\nmalware_scanning = false\n')
    lines = subprocess.run([CORPUS, work, str(args.size_mib)], capture_output=True, text=True, check=True).stdout
    pdf = next(l.rsplit(" ", 1)[0] for l in lines.split("\n") if l.endswith(".pdf") or ".pdf " in l)
    size = os.path.getsize(pdf)
    out = os.path.join(work, "out.pdf")
    base, stamped, growth1, growth4 = [], [], [], []
    port = 18290
    for _ in range(args.rounds):
        port += 1
        c = Courier(work, port, pdf)
        try:
            base.append(c.doc_get_seconds(out))
            idle = kib(c.proc.pid, "VmRSS")
            stamped.append(c.stamped_seconds(out))
            growth1.append((kib(c.proc.pid, "VmHWM") - idle) / 1024)
        finally:
            c.stop()
        port += 1
        c = Courier(work, port, pdf)
        try:
            idle = kib(c.proc.pid, "VmRSS")
            threads = [threading.Thread(target=c.stamped_seconds, args=(f"{out}.{i}",)) for i in range(4)]
            [t.start() for t in threads]
            [t.join() for t in threads]
            growth4.append((kib(c.proc.pid, "VmHWM") - idle) / 1024)
        finally:
            c.stop()
    shutil.rmtree(work, ignore_errors=True)
    b, s = statistics.median(base), statistics.median(stamped)
    print(f"\nPDF of {size / 2**20:.1f} MiB, median of {args.rounds} rounds\n")
    print("| | time | MB/s |\n|---|---|---|")
    print(f"| doc get (baseline, no stamp) | {b:.2f} s | {size / b / 1e6:.0f} |")
    print(f"| share download, stamped | {s:.2f} s | {size / s / 1e6:.0f} |")
    print(f"\nstamped / baseline: {s / b:.1f}x")
    print(f"server peak RSS growth: one download {statistics.median(growth1):.0f} MiB "
          f"({statistics.median(growth1) * 2**20 / size:.1f}x the file); "
          f"4 concurrent {statistics.median(growth4):.0f} MiB (at most 2 stamped at a time)")
    print(json.dumps({"baseline": base, "stamped": stamped, "growth1_mib": growth1, "growth4_mib": growth4}))


if __name__ == "__main__":
    main()
