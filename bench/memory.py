#!/usr/bin/env python3
"""Memory benchmark: peak RSS of the server for one upload of each accepted type, small and large.

For each type (PDF, DOCX, ZIP, MSG, plain text, PNG) a file of `--small-mib` and one of
`--large-mib` are uploaded, each to a fresh server (scanning on: types, archive walk, DLP;
clamd off), and the server's VmHWM (peak RSS) is read after the upload. Reported: both peaks
and the growth from small to large, per type; the target is a growth of at most 8 MiB for
every type. Files are written here, streaming, with text the detectors read (random words and
a few numbers), so every type's text path is taken:
  * PDF: one page per 64 KiB of text, each content stream Flate-compressed, classic xref;
  * DOCX: a streamed `word/document.xml` with one paragraph per line;
  * ZIP: stored entries of text;
  * MSG: an OLE compound file (courier-scan's make_corpus example, `--msg`), the large one
    60 MiB: messages over 64 MiB are refused by design;
  * text and PNG (random bytes behind the signature).

With `--tus`, each file goes up as a resumable upload in one PATCH instead (checked as it
arrives, the partial file kept as the blob).

Needs: curl, release builds (bench/memory.sh). Run by hand, not in CI.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transit import MIB, ROOT, Courier, make_file  # noqa: E402

CORPUS = os.path.join(ROOT, "target", "release", "examples", "make_corpus")
WORDS = ("the agreement party shall within days of notice counsel client court claim damages hereby "
         "pursuant to section and any such contract tenant landlord premises payment invoice dated "
         "signed witness deposition exhibit schedule amended breach 12 2026 EUR 1,250.00").split()


def text_lines(rng, size):
    """Lines of random words until `size` bytes, an e-mail address every 200 lines. The lines
    come from a pool of 8,192 made once (800 KB, more than deflate's window), so that writing
    a gigabyte is quick and compresses about as much as prose does."""
    pool = [" ".join(rng.choice(WORDS) + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(3))
                     for _ in range(12)) for _ in range(8192)]
    done = 0
    n = 0
    while done < size:
        line = pool[n % len(pool)]
        n += 1
        if n % 200 == 0:
            line += f" write to client{n}@example.com"
        done += len(line) + 1
        yield line


def make_text(path, size):
    rng = random.Random(1)
    with open(path, "w") as f:
        for line in text_lines(rng, size):
            f.write(line + "\n")


def make_pdf(path, size):
    """Pages of compressed text until the file is about `size` bytes, written as it goes."""
    rng = random.Random(2)
    offsets = {}
    with open(path, "wb") as f:
        def obj(number, body):
            offsets[number] = f.tell()
            f.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
        lines = text_lines(rng, 1 << 62)
        pages = []
        number = 4
        while f.tell() < size:
            ops = [b"BT /F1 9 Tf 40 800 Td 11 TL"]
            for _ in range(64 * 1024 // 120):
                ops.append(b"(" + next(lines).encode() + b") '")
            ops.append(b"ET")
            data = zlib.compress(b"\n".join(ops), 1)
            obj(number, f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode() + data + b"\nendstream")
            obj(number + 1, f"<< /Type /Page /Parent 2 0 R /Contents {number} 0 R >>".encode())
            pages.append(number + 1)
            number += 2
        kids = " ".join(f"{p} 0 R" for p in pages).encode()
        obj(2, b"<< /Type /Pages /Resources << /Font << /F1 3 0 R >> >> /Kids [" + kids
            + f"] /Count {len(pages)} >>".encode())
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        xref = f.tell()
        f.write(f"xref\n0 {number}\n0000000000 65535 f \n".encode())
        for n in range(1, number):
            f.write(f"{offsets[n]:010} 00000 n \n".encode())
        f.write(f"trailer\n<< /Size {number} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())


def make_docx(path, size):
    rng = random.Random(3)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                       b'wordprocessingml/2006/main"><w:body>')
            # Deflated, this text shrinks about 2.2 times: write text until the archive is the size.
            for line in text_lines(rng, int(size * 2.2)):
                part.write(b"<w:p><w:r><w:t>" + line.encode() + b"</w:t></w:r></w:p>")
            part.write(b"</w:body></w:document>")


def make_zip(path, size):
    rng = random.Random(4)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for i in range(8):
            with z.open(f"folder/notes-{i}.txt", "w", force_zip64=True) as entry:
                for line in text_lines(rng, size // 8):
                    entry.write(line.encode() + b"\n")


def make_msg(path, size):
    out = subprocess.run([CORPUS, "--msg", path, str(size // MIB)], capture_output=True, text=True, check=True)
    print("   ", out.stdout.strip(), file=sys.stderr)


KINDS = {"pdf": make_pdf, "docx": make_docx, "zip": make_zip, "msg": make_msg, "txt": make_text, "png": make_file}


def peak_after_upload(work, path, tus=False):
    c = Courier(work, 18300, 'malware_scanning = false\n')
    try:
        token = c.portal()
        if tus:
            c.tus_upload(token, path)
        else:
            subprocess.run(["curl", "-sf", "-H", "Accept: application/json", "-F", f"file=@{path}",
                            f"{c.base}/p/{token}/files"], check=True, capture_output=True, text=True)
        peak = c.hwm_kib() / 1024
        # What the inspector made of it: the text path must have run ("scanned" text).
        scan = c.cli("doc", "list", "--json")[0]["scan"]
        print(f"    scan: {json.dumps(scan)[:300]}", file=sys.stderr)
        return peak
    finally:
        c.stop()


def concurrent_peak(work, kinds, count, mib):
    """Peak RSS of one server while `count` uploads of `mib` MiB, the types taken in turn, run at once."""
    paths = []
    for kind in kinds:
        path = os.path.join(work, f"mixed-{mib}.{kind}")
        KINDS[kind](path, min(mib, 60) * MIB if kind == "msg" else mib * MIB)
        paths.append(path)
    c = Courier(work, 18301, 'malware_scanning = false\n')
    try:
        token = c.portal()
        uploads = [subprocess.Popen(["curl", "-sf", "-o", "/dev/null", "-H", "Accept: application/json", "-F",
                                     f"file=@{paths[i % len(paths)]}", f"{c.base}/p/{token}/files"])
                   for i in range(count)]
        failed = sum(1 for u in uploads if u.wait() != 0)
        return c.hwm_kib() / 1024, failed
    finally:
        c.stop()
        for path in paths:
            os.remove(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small-mib", type=int, default=10)
    ap.add_argument("--large-mib", type=int, default=1024)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--concurrent", type=int, default=32, help="uploads at once of mixed types (0: skip)")
    ap.add_argument("--concurrent-mib", type=int, default=64)
    ap.add_argument("--only-concurrent", action="store_true")
    ap.add_argument("--tus", action="store_true", help="resumable uploads, one PATCH each")
    ap.add_argument("--workdir", default=os.path.join(ROOT, "target", "bench"))
    args = ap.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="memory-", dir=args.workdir)
    print(f"| type | peak RSS, {args.small_mib} MiB | peak RSS, {args.large_mib} MiB (msg: 60) | growth (≤ 8 MiB) |")
    print("|---|---|---|---|")
    for kind in [] if args.only_concurrent else args.kinds.split(","):
        peaks = []
        # Outlook messages are inspected up to 64 MiB (larger ones are refused by design).
        large = min(args.large_mib, 60) if kind == "msg" else args.large_mib
        for mib in (args.small_mib, large):
            path = os.path.join(work, f"file-{mib}.{kind}")
            KINDS[kind](path, mib * MIB)
            print(f"  {kind} {mib} MiB: {os.path.getsize(path) / MIB:.1f} MiB written", file=sys.stderr)
            peaks.append(peak_after_upload(work, path, args.tus))
            os.remove(path)
        growth = peaks[1] - peaks[0]
        print(f"| {kind} | {peaks[0]:.1f} MiB | {peaks[1]:.1f} MiB | {growth:+.1f} MiB"
              f"{'' if growth <= 8 else ' (over)'} |", flush=True)
    if args.concurrent:
        kinds = args.kinds.split(",")
        peak, failed = concurrent_peak(work, kinds, args.concurrent, args.concurrent_mib)
        print(f"\n{args.concurrent} uploads of {args.concurrent_mib} MiB at once ({', '.join(kinds)} in turn): "
              f"peak RSS {peak:.1f} MiB (≤ 128 MiB), {failed} failed")


if __name__ == "__main__":
    main()
