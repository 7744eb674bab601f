#!/usr/bin/env python3
"""Transit benchmark: Courier against nginx (WebDAV PUT / static GET) on the same files and disk.

Measures, in one run:
  * upload (multipart and tus) and download MB/s of one large file (default 1 GiB) through
    Courier and through nginx, and their ratios;
  * Courier's peak RSS (VmHWM) for a 10 MiB and for a 1 GiB upload, each on a fresh server;
  * Courier's peak RSS during 32 concurrent 64 MiB uploads;
  * bytes written to disk per byte uploaded (write_bytes in /proc/PID/io).

Needs: curl, nginx (Debian: nginx-light), a release build (cargo build --release).
Run by hand, not in CI:  bench/transit.sh [--size-mib 1024]
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# COURIER_BENCH_BIN measures another build (an older commit) with the same script.
BIN = os.environ.get("COURIER_BENCH_BIN", os.path.join(ROOT, "target", "release", "courier"))
PASSWORD = "correct horse battery staple"
MIB = 1024 * 1024


def make_file(path, size):
    """Incompressible bytes behind a PNG signature: portals accept files by content only."""
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        left = size - 8
        while left:
            n = min(left, 8 * MIB)
            f.write(os.urandom(n))
            left -= n


def totp(secret_b32):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def proc_value(pid, name, field):
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise KeyError(field)


class Courier:
    """A fresh Courier server with its own data directory."""

    def __init__(self, work, port, extra_config=""):
        self.data = tempfile.mkdtemp(prefix="courier-data-", dir=work)
        self.base = f"http://127.0.0.1:{port}"
        # 32 uploads at once through one link from one address measure memory under load; the
        # default caps (16 per link and per address) would turn half of them away.
        config = os.path.join(self.data, "bench.toml")
        with open(config, "w") as f:
            f.write("uploads_per_link = 64\nuploads_per_address = 64\n" + extra_config)
        self.env = dict(os.environ, COURIER_DATA_DIR=self.data, COURIER_PUBLIC_URL=self.base, RUST_LOG="warn",
                        COURIER_CONFIG=config)
        self.proc = subprocess.Popen([BIN, "serve", "--bind", f"127.0.0.1:{port}"], env=self.env,
                                     stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if line.startswith("Courier is listening"):
                break
        self.cookie = None

    def cli(self, *args, stdin=None):
        out = subprocess.run([BIN, *args], env=self.env, input=stdin, capture_output=True, text=True, check=True)
        return json.loads(out.stdout) if "--json" in args else out.stdout

    def portal(self):
        return self.cli("portal", "create", "--label", "bench", "--max-file-size", "8GiB", "--json")["token"]

    def login(self):
        user = self.cli("user", "create", "--email", "bench@firm.example", "--role", "attorney",
                        "--password-stdin", "--json", stdin=PASSWORD + "\n")
        cookies = {}

        def request(method, path, form=None):
            conn = http.client.HTTPConnection(self.base.split("//")[1])
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            body = None
            if form is not None:
                body = "&".join(f"{k}={v}" for k, v in form.items())
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            for h in resp.headers.get_all("Set-Cookie") or []:
                k, v = h.split(";")[0].split("=", 1)
                cookies[k] = v
            return resp.status, resp.read().decode()

        csrf = lambda html: re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        _, page = request("GET", "/login")
        request("POST", "/login", {"email": "bench%40firm.example", "password": PASSWORD.replace(" ", "+").replace(",", "%2C"),
                                   "csrf_token": csrf(page)})
        _, page = request("GET", "/login/mfa")
        status, _ = request("POST", "/login/mfa", {"code": totp(user["totp_secret"]), "csrf_token": csrf(page)})
        assert status == 303, f"login failed: {status}"
        self.cookie = f"courier_session={cookies['courier_session']}"

    def upload(self, token, path):
        subprocess.run(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F", f"file=@{path}",
                        f"{self.base}/p/{token}/files"], check=True)

    def tus_upload(self, token, path):
        """A resumable upload (tus) of `path` in one PATCH; returns the seconds from the POST to
        the PATCH's answer, which comes once the file is a document (checked, sealed, stored)."""
        start = time.perf_counter()
        url = self.tus_create(token, os.path.basename(path), os.path.getsize(path))
        self.tus_patch(url, path, 0)
        return time.perf_counter() - start

    def tus_create(self, token, name, size):
        """Opens a resumable upload of `size` bytes; returns its URL."""
        conn = http.client.HTTPConnection(self.base.split("//")[1])
        conn.request("POST", f"/p/{token}/tus/", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
            "Upload-Metadata": f"filename {base64.b64encode(name.encode()).decode()}"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 201, f"tus creation: {resp.status}"
        location = resp.getheader("Location")
        return location if location.startswith("http") else self.base + location

    @staticmethod
    def tus_patch(url, path, offset):
        """Sends the file `path` as one PATCH at `offset`."""
        subprocess.run(["curl", "-sf", "-o", "/dev/null", "-X", "PATCH", "-T", path, "-H", "Tus-Resumable: 1.0.0",
                        "-H", f"Upload-Offset: {offset}", "-H", "Content-Type: application/offset+octet-stream", url],
                       check=True)

    def hwm_kib(self):
        return proc_value(self.proc.pid, "status", "VmHWM:")

    def write_bytes(self):
        return proc_value(self.proc.pid, "io", "write_bytes:")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def start_nginx(work, port):
    root = os.path.join(work, "nginx-root")
    os.makedirs(root, exist_ok=True)
    os.makedirs(os.path.join(work, "nginx-tmp"), exist_ok=True)
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off; user root; worker_processes 2; pid {work}/nginx.pid; error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; sendfile on; client_max_body_size 0;
  client_body_temp_path {work}/nginx-tmp;
  server {{ listen 127.0.0.1:{port}; root {root}; dav_methods PUT DELETE; create_full_put_path on; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrent", type=int, default=32)
    ap.add_argument("--concurrent-mib", type=int, default=64)
    ap.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench"))
    args = ap.parse_args()
    for tool in ("curl", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (Debian: apt-get install curl nginx-light)")
    if not os.path.exists(BIN):
        sys.exit("build first: cargo build --release")
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.workdir)
    size = args.size_mib * MIB
    big, small, mid = (os.path.join(work, n) for n in ("big.bin", "small.bin", "mid.bin"))
    make_file(big, size)
    make_file(small, 10 * MIB)
    make_file(mid, args.concurrent_mib * MIB)
    results = {"size_mib": args.size_mib, "rounds": args.rounds}
    samples = {k: [] for k in ("nginx_upload_mb_s", "nginx_upload_no_sync_mb_s", "nginx_download_mb_s",
                               "courier_upload_mb_s", "courier_tus_upload_mb_s", "courier_download_mb_s",
                               "write_amplification")}

    # Throughput: nginx and Courier alternate, with the disk flushed before every transfer, so
    # neither pays for the other's write-back; the median of the rounds is reported.
    for _ in range(args.rounds):
        nginx = start_nginx(work, 18090)
        try:
            os.sync()
            t = timed(["curl", "-sf", "-o", "/dev/null", "-T", big, "http://127.0.0.1:18090/big.bin"])
            samples["nginx_upload_no_sync_mb_s"].append(size / t / 1e6)
            # Courier answers an upload once its blob and row are on disk (fsync); nginx once
            # the file is in the page cache. Issue 18 compares with nginx's PUT + sync.
            t += timed(["sync", "-d", os.path.join(work, "nginx-root", "big.bin")])
            samples["nginx_upload_mb_s"].append(size / t / 1e6)
            os.sync()
            t = timed(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:18090/big.bin"])
            samples["nginx_download_mb_s"].append(size / t / 1e6)
        finally:
            nginx.terminate()
            nginx.wait()
            os.remove(os.path.join(work, "nginx-root", "big.bin"))

        c = Courier(work, 18091)
        try:
            token = c.portal()
            os.sync()
            before = c.write_bytes()
            t = timed(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F", f"file=@{big}",
                       f"{c.base}/p/{token}/files"])
            samples["courier_upload_mb_s"].append(size / t / 1e6)
            samples["write_amplification"].append((c.write_bytes() - before) / size)
            # Read before signing in: argon2id's 19 MiB would otherwise count as upload memory.
            results["rss_peak_large_upload_mib"] = c.hwm_kib() / 1024
            os.sync()
            samples["courier_tus_upload_mb_s"].append(size / c.tus_upload(token, big) / 1e6)
            c.login()
            doc = c.cli("doc", "list", "--json")[0]["id"]
            os.sync()
            t = timed(["curl", "-sf", "-o", "/dev/null", "-H", f"Cookie: {c.cookie}", f"{c.base}/documents/{doc}/download"])
            samples["courier_download_mb_s"].append(size / t / 1e6)
        finally:
            c.stop()
    for k, v in samples.items():
        results[k] = statistics.median(v)
        results[k + "_all"] = [round(x, 4) for x in v]

    # Peak RSS for a 10 MiB upload on a fresh server (the baseline for RSS growth).
    c = Courier(work, 18092)
    try:
        c.upload(c.portal(), small)
        results["rss_peak_10mib_upload_mib"] = c.hwm_kib() / 1024
    finally:
        c.stop()

    # Concurrent uploads.
    c = Courier(work, 18093)
    try:
        token = c.portal()
        procs = [subprocess.Popen(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F",
                                   f"file=@{mid}", f"{c.base}/p/{token}/files"]) for _ in range(args.concurrent)]
        start = time.perf_counter()
        assert all(p.wait() == 0 for p in procs), "a concurrent upload failed"
        results["concurrent_seconds"] = time.perf_counter() - start
        results["rss_peak_concurrent_mib"] = c.hwm_kib() / 1024
    finally:
        c.stop()
    shutil.rmtree(work, ignore_errors=True)

    r = results
    r["upload_ratio"] = r["courier_upload_mb_s"] / r["nginx_upload_mb_s"]
    r["download_ratio"] = r["courier_download_mb_s"] / r["nginx_download_mb_s"]
    r["tus_upload_ratio"] = r["courier_tus_upload_mb_s"] / r["nginx_upload_mb_s"]
    r["rss_growth_mib"] = r["rss_peak_large_upload_mib"] - r["rss_peak_10mib_upload_mib"]
    print(f"""
| measure ({args.size_mib} MiB file, median of {args.rounds} rounds) | Courier | nginx | ratio / target |
|---|---|---|---|
| upload MB/s (nginx: PUT + sync) | {r['courier_upload_mb_s']:.0f} | {r['nginx_upload_mb_s']:.0f} | {r['upload_ratio']:.2f} (target >= 0.95) |
| tus upload MB/s, one PATCH (nginx: PUT + sync) | {r['courier_tus_upload_mb_s']:.0f} | {r['nginx_upload_mb_s']:.0f} | {r['tus_upload_ratio']:.2f} (target >= 0.95) |
| upload MB/s (nginx: PUT alone) | | {r['nginx_upload_no_sync_mb_s']:.0f} | {r['courier_upload_mb_s'] / r['nginx_upload_no_sync_mb_s']:.2f} |
| download MB/s | {r['courier_download_mb_s']:.0f} | {r['nginx_download_mb_s']:.0f} | {r['download_ratio']:.2f} (target >= 0.9) |
| peak RSS, 10 MiB upload | {r['rss_peak_10mib_upload_mib']:.1f} MiB | | |
| peak RSS, {args.size_mib} MiB upload | {r['rss_peak_large_upload_mib']:.1f} MiB | | growth {r['rss_growth_mib']:.1f} MiB (target <= 8) |
| peak RSS, {args.concurrent} x {args.concurrent_mib} MiB concurrent | {r['rss_peak_concurrent_mib']:.1f} MiB | | target <= 128 MiB ({r['concurrent_seconds']:.1f} s) |
| disk bytes written per byte uploaded | {r['write_amplification']:.4f} | | target <= 1.01 |
""")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
