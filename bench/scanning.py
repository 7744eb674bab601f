#!/usr/bin/env python3
"""Scanning benchmark: what upload safety costs an upload, on the same files in one run.

For plain text, PDF and DOCX files (made by `courier-scan`'s make_corpus example), measures the
wall time of one upload through Courier in three set-ups, interleaved round by round:
  * types only: the allowlist and archive checks, which always run (DLP and clamd off);
  * DLP: personal-data detection on the extracted text as well;
  * DLP + clamd: and the plaintext streamed to clamd (INSTREAM) while it is encrypted;
and, as the baseline for the last, the time clamd alone takes for the same file
(`clamdscan --stream`). Target: DLP + clamd adds no more than the clamd time itself to the
upload (they overlap). Reports medians and the ratios.

Needs: curl, clamd (bench/scanning.sh starts the test one), release builds.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "courier")
CORPUS = os.path.join(ROOT, "target", "release", "examples", "make_corpus")


class Courier:
    def __init__(self, work, port, extra_env):
        self.data = tempfile.mkdtemp(prefix="courier-data-", dir=work)
        self.base = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ, COURIER_DATA_DIR=self.data, COURIER_PUBLIC_URL=self.base, RUST_LOG="warn",
                        **extra_env)
        self.proc = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=self.env,
                                     stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if line.startswith("Courier is listening"):
                break
        out = subprocess.run([BIN, "portal", "create", "--label", "bench", "--json"], env=self.env,
                             capture_output=True, text=True, check=True)
        self.token = json.loads(out.stdout)["token"]

    def upload_seconds(self, path):
        start = time.perf_counter()
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Accept: application/json",
                              "-F", f"file=@{path}", f"{self.base}/p/{self.token}/files"],
                             capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        assert out.stdout == "201", f"upload of {path} answered {out.stdout}"
        return elapsed

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)


def clamd_seconds(addr, path):
    host, port = addr.rsplit(":", 1)
    conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    conf.write(f"TCPSocket {port}\nTCPAddr {host}\n")
    conf.close()
    start = time.perf_counter()
    subprocess.run(["clamdscan", "--no-summary", f"--config-file={conf.name}", "--stream", path],
                   check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    os.unlink(conf.name)
    return elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench"))
    args = ap.parse_args()
    clamd = os.environ.get("COURIER_BENCH_CLAMD_ADDR")
    if not clamd:
        sys.exit("COURIER_BENCH_CLAMD_ADDR=host:port is needed (bench/scanning.sh starts a clamd)")
    for exe in (BIN, CORPUS):
        if not os.path.exists(exe):
            sys.exit("build first: bench/scanning.sh")
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="scan-", dir=args.workdir)
    files = {}
    for line in subprocess.run([CORPUS, work, str(args.size_mib)], capture_output=True, text=True,
                               check=True).stdout.split("\n"):
        if line:
            path, size = line.rsplit(" ", 1)
            files[os.path.basename(path)] = (path, int(size))
    setups = {
        "types only": {"COURIER_DLP_SCANNING": "off", "COURIER_MALWARE_SCANNING": "off"},
        "DLP": {"COURIER_MALWARE_SCANNING": "off"},
        "DLP + clamd": {"COURIER_CLAMD_ADDR": clamd},
    }
    samples = {(f, s): [] for f in files for s in list(setups) + ["clamd alone"]}
    port = 18190
    for _ in range(args.rounds):
        for setup, env in setups.items():
            port += 1
            c = Courier(work, port, env)
            try:
                for name, (path, _) in files.items():
                    samples[(name, setup)].append(c.upload_seconds(path))
            finally:
                c.stop()
        for name, (path, _) in files.items():
            samples[(name, "clamd alone")].append(clamd_seconds(clamd, path))
    shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"\nupload wall time, median of {args.rounds} rounds (MB/s in brackets)\n")
    print("| file | size | types only | DLP | DLP + clamd | clamd alone | DLP ÷ types | added by clamd ÷ clamd alone |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (_, size) in files.items():
        t = {s: med[(name, s)] for s in list(setups) + ["clamd alone"]}
        mbs = {s: size / t[s] / 1e6 for s in t}
        added = (t["DLP + clamd"] - t["DLP"]) / t["clamd alone"]
        print(f"| {name} | {size / 2**20:.1f} MiB | " +
              " | ".join(f"{t[s]:.2f} s ({mbs[s]:.0f})" for s in list(setups) + ["clamd alone"]) +
              f" | {t['DLP'] / t['types only']:.2f} | {added:.2f} (target <= 1.0) |")
    print(json.dumps({f"{k[0]} / {k[1]}": [round(x, 4) for x in v] for k, v in samples.items()}, indent=2))


if __name__ == "__main__":
    main()
