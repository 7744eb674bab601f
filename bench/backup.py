#!/usr/bin/env python3
"""Backup benchmark (run by hand, not in CI): `bench/backup.sh [GiB]`.

Builds an installation holding GiB of documents (8 files, through `doc upload`, so they are
scanned and encrypted as usual), then measures with /usr/bin/time:
  - `backup create` (while nothing else runs), `backup restore` into an empty installation, and
    `backup drill`: wall time, MB/s of document bytes, and peak RSS;
  - peak RSS of an idle command on the same installation (`portal list`): the baseline the
    backup's memory is compared with;
  - the standard tools doing the same amount of work on the same disk in the same run:
    `tar -c blobs | age -r R` (encrypt) and `age -d | tar -x` (decrypt), as the ratio's baseline.
The installation's backends are whatever the COURIER_* variables name (embedded by default;
set COURIER_DATABASE_URL and COURIER_BLOB_STORE etc. for PostgreSQL + S3)."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("COURIER_BENCH_BIN", "target/release/courier")


def timed(args, env=None, stdin=None):
    """(seconds, peak RSS in KiB, stdout) of one command."""
    start = time.monotonic()
    out = subprocess.run(["/usr/bin/time", "-v"] + args, capture_output=True, env=env, input=stdin)
    seconds = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"{args} failed: {out.stderr.decode()[-2000:]}")
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return seconds, rss, out.stdout


def main():
    gib = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    files = 8
    each = int(gib * 1024**3 / files)
    work = tempfile.mkdtemp(prefix="courier-backup-bench-")
    try:
        env = dict(os.environ, COURIER_DATA_DIR=f"{work}/src", RUST_LOG="warn")
        run = lambda *a: subprocess.run([BIN, *a], env=env, check=True, capture_output=True).stdout
        run("matter", "create", "--name", "Bench", "--json")
        line = b"The quarterly statement lists every transfer of the account in order. " * 1
        src = f"{work}/doc.txt"
        with open(src, "wb") as f:
            written = 0
            n = 0
            while written < each:
                chunk = b"%012d " % n + line + b"\n"
                f.write(chunk)
                written += len(chunk)
                n += 1
        for i in range(files):
            path = f"{work}/doc-{i}.txt"
            os.link(src, path)
            run("doc", "upload", "--matter", "Bench", path, "--json")
            os.unlink(path)
        os.unlink(src)
        total = each * files
        mb = total / 1e6
        subprocess.run(["sync"])

        identity = f"{work}/id.txt"
        recipient = json.loads(run("backup", "keygen", "--output", identity, "--json"))["recipient"]
        os.makedirs(f"{work}/out")
        idle_s, idle_rss, _ = timed([BIN, "portal", "list", "--json"], env)
        backup_s, backup_rss, out = timed([BIN, "backup", "create", "--to", f"{work}/out", "--recipient", recipient, "--json"], env)
        made = json.loads(out)
        subprocess.run(["sync"])
        renv = dict(env, COURIER_DATA_DIR=f"{work}/restored")
        renv.pop("COURIER_DATABASE_URL", None)
        renv.pop("COURIER_BLOB_STORE", None)
        restore_s, restore_rss, _ = timed([BIN, "backup", "restore", made["location"], "--identity", identity, "--no-journal", "--json"], renv)
        subprocess.run(["sync"])
        drill_s, drill_rss, _ = timed([BIN, "backup", "drill", "--from", f"{work}/out", "--identity", identity, "--json"], env)

        # The standard tools on the same bytes: the blobs of the restored (local) installation.
        blobs = f"{work}/restored/blobs"
        tar_s, tar_rss, _ = timed(["sh", "-c", f"tar -C {blobs} -c . | age -r {recipient} > {work}/plain.tar.age && sync"])
        os.makedirs(f"{work}/x")
        untar_s, _, _ = timed(["sh", "-c", f"age -d -i {identity} {work}/plain.tar.age | tar -C {work}/x -x && sync"])

        print(f"documents: {files} x {each / 2**20:.0f} MiB = {total / 2**30:.2f} GiB; backup file {made['bytes'] / 2**30:.2f} GiB")
        print(f"idle command peak RSS: {idle_rss / 1024:.1f} MiB")
        print(f"backup create:  {backup_s:6.1f} s  {mb / backup_s:7.0f} MB/s  peak RSS {backup_rss / 1024:6.1f} MiB "
              f"(+{(backup_rss - idle_rss) / 1024:.1f} MiB over idle)  ratio to tar|age: {tar_s / backup_s:.2f}")
        print(f"backup restore: {restore_s:6.1f} s  {mb / restore_s:7.0f} MB/s  peak RSS {restore_rss / 1024:6.1f} MiB  "
              f"ratio to age -d|tar -x: {untar_s / restore_s:.2f}")
        print(f"backup drill:   {drill_s:6.1f} s  {mb / drill_s:7.0f} MB/s  peak RSS {drill_rss / 1024:6.1f} MiB")
        print(f"baseline tar|age: {tar_s:.1f} s ({mb / tar_s:.0f} MB/s, {tar_rss / 1024:.1f} MiB); age -d|tar -x: {untar_s:.1f} s ({mb / untar_s:.0f} MB/s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
