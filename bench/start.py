#!/usr/bin/env python3
"""Cold start: time from spawning `courier serve` on an existing installation (embedded
defaults: SQLite, local blobs) to its first 200 on /healthz, in interleaved rounds for each
binary given, median and spread. Prints each binary's median and its ratio to the first.

    python3 bench/start.py BASELINE_BINARY [OTHER_BINARY ...] [--rounds 15]

Needs: release builds (`cargo build --release -p courier-cli`).
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(binary, env, when_ready=None):
    """Milliseconds from spawning `courier serve` to its first 200 on /healthz; or, with
    `when_ready`, what that function returns for the still-running process."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5) as r:
                    if r.status == 200:
                        ms = (time.perf_counter() - started) * 1000
                        return when_ready(proc) if when_ready else ms
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit(f"{binary} exited before answering")
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"{binary} did not answer within 30 s")
                time.sleep(0.001)
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # An installation per binary (each may have its own schema), made once: what a
        # restart finds.
        envs = {}
        for i, b in enumerate(args.binaries):
            env = dict(os.environ, COURIER_DATA_DIR=os.path.join(tmp, f"data-{i}"), RUST_LOG="warn")
            env.pop("COURIER_CONFIG", None)
            subprocess.run([b, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
            envs[b] = env
        times = {b: [] for b in args.binaries}
        for _ in range(args.rounds):
            for b in args.binaries:
                times[b].append(one_start(b, envs[b]))
    base = statistics.median(times[args.binaries[0]])
    for b in args.binaries:
        t = sorted(times[b])
        med = statistics.median(t)
        print(f"{b}: median {med:.0f} ms (min {t[0]:.0f}, max {t[-1]:.0f}), {med / base:.2f}x the first")


if __name__ == "__main__":
    main()
