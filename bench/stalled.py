#!/usr/bin/env python3
"""Memory of stalled downloads: a fresh server (embedded defaults) with four 48 MiB documents
gets, each round, --clients downloads from sockets that never read (from 127.0.0.2 and on, 60
per address, under `connections_per_address`), held 3 s, then closed. Prints the server's
VmRSS while they stall and 15 s after they closed, and whether `/healthz` answered meanwhile.
What it shows: the memory per stalled download, and whether the allocator gives it back.

    python3 bench/stalled.py [BINARY] [--clients 240] [--rounds 3]
    GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=16777216 \\
        python3 bench/stalled.py        # as examples/courier.service runs it

Needs: curl, a release build.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transit  # noqa: E402

MIB = 1 << 20


def rss_mib(pid):
    return transit.proc_value(pid, "status", "VmRSS:") / 1024


def healthz(base):
    start = time.perf_counter()
    out = subprocess.run(["curl", "-s", "-m", "10", "--interface", "127.0.0.100", "-o", "/dev/null", "-w",
                          "%{http_code}", base + "/healthz"], capture_output=True, text=True).stdout
    return f"{out} in {time.perf_counter() - start:.3f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=transit.BIN)
    ap.add_argument("--clients", type=int, default=240)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=18680)
    args = ap.parse_args()
    transit.BIN = args.binary
    os.makedirs(os.path.join(transit.ROOT, "target", "bench"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="stalled-", dir=os.path.join(transit.ROOT, "target", "bench"))
    c = transit.Courier(work, args.port)
    try:
        token = c.portal()
        for i in range(4):
            path = os.path.join(work, f"doc{i}.bin")
            transit.make_file(path, 48 * MIB)
            c.upload(token, path)
        c.login()
        docs = [d["id"] for d in c.cli("doc", "list", "--json")]
        pid = c.proc.pid
        print(f"{args.binary}: after start and uploads, VmRSS {rss_mib(pid):.0f} MiB")
        for r in range(args.rounds):
            socks = []
            for i in range(args.clients):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.bind((f"127.0.0.{2 + i // 60}", 0))
                s.connect(("127.0.0.1", args.port))
                s.sendall(f"GET /documents/{docs[i % len(docs)]}/download HTTP/1.1\r\nHost: bench\r\n"
                          f"Cookie: {c.cookie}\r\n\r\n".encode())
                socks.append(s)
            time.sleep(3)
            print(f"round {r}: {args.clients} stalled: VmRSS {rss_mib(pid):.0f} MiB, /healthz {healthz(c.base)}")
            for s in socks:
                s.close()
            time.sleep(15)
            print(f"round {r}: 15 s after they closed: VmRSS {rss_mib(pid):.0f} MiB, /healthz {healthz(c.base)}")
    finally:
        c.stop()


if __name__ == "__main__":
    main()
