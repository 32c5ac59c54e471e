#!/usr/bin/python3
"""Latency of one call of representative default-catalog skills (issue 8), run the way the catalog suite runs them
(env -i, cwd = a temp workspace, arguments on stdin), next to the peer measured in the same run: a bare python3
start (`python3 -c pass`), which is the floor for any python3 skill. Prints one table: median and p90 wall time
over N runs, the ratio to the peer, and the machine. Usage: bench/catalog/skill_latency.py [N] (default 20)."""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

CATALOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "skills", "catalog")
CALLS = [
    ("csv-query", {"path": "people.csv", "where": [{"column": "age", "op": ">", "value": 40}], "sort_by": ["-age"]}),
    ("json-query", {"path": "store.json", "query": "$..price"}),
    ("yaml-to-json", {"text": "a: 1\nb: [1, 2]\n"}),
    ("regex-extract", {"path": "people.csv", "pattern": "[A-Z]\\w+"}),
    ("file-hash", {"path": "people.csv", "algorithms": ["sha256", "md5"]}),
    ("file-find", {"name": "*.csv"}),
    ("archive-create", {"paths": ["people.csv", "store.json"], "output": "b.zip", "overwrite": True}),
    ("markdown-to-html", {"text": "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"}),
    ("pdf-text", {"path": "doc.pdf"}),
    ("image-info", {"path": "img.png"}),
    ("image-resize", {"path": "img.png", "output": "small.png", "width": 32}),
    ("calculate", {"expression": "sqrt(3^2 + 4^2) * 15%"}),
    ("unit-convert", {"value": 10, "from": "mi", "to": "km"}),
    ("datetime-convert", {"value": "2024-07-01 09:00", "from_timezone": "America/New_York", "to_timezone": "Asia/Tokyo"}),
]


def prepare(ws):
    with open(os.path.join(ws, "people.csv"), "w") as f:
        f.write("name,age\n" + "".join("P%d,%d\n" % (i, i % 90) for i in range(1000)))
    with open(os.path.join(ws, "store.json"), "w") as f:
        json.dump({"items": [{"price": i, "name": "n%d" % i} for i in range(1000)]}, f)
    subprocess.run(["/usr/bin/python3", "-c", "from PIL import Image; Image.new('RGB', (256, 128)).save('img.png')"],
                   cwd=ws, check=True)
    stream = b"BT /F1 12 Tf 72 700 Td (Hello catalog) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    pdf, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(pdf)
    pdf += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    with open(os.path.join(ws, "doc.pdf"), "wb") as f:
        f.write(pdf)


def run(argv, stdin, ws, env):
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/env", "-i", "-C", ws] + env + argv, input=stdin, capture_output=True)
    elapsed = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit("failed: %s: %s" % (argv, p.stderr.decode().strip()))
    return elapsed


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as ws:
        prepare(ws)
        base_env = ["PATH=/usr/bin:/bin", "HOME=" + ws, "LANG=C.UTF-8", "TMPDIR=/tmp"]
        peer = [run(["python3", "-c", "pass"], b"", ws, base_env) for _ in range(n)]
        peer_ms = statistics.median(peer)
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        print("machine: %s, %d cores, %s, Python %s; %d runs each" % (cpu, os.cpu_count(), platform.platform(),
                                                                       platform.python_version(), n))
        print("%-18s %10s %10s %12s %8s" % ("skill", "p50 ms", "p90 ms", "peer p50 ms", "ratio"))
        print("%-18s %10.1f %10.1f %12.1f %8.2f" % ("(python3 -c pass)", peer_ms, sorted(peer)[int(0.9 * (n - 1))], peer_ms, 1.0))
        lib = os.path.realpath(os.path.join(CATALOG, ".lib"))  # mounted beside the skill by the executor
        for name, args in CALLS:
            d = os.path.realpath(os.path.join(CATALOG, name))
            times = sorted(run(["python3", os.path.join(d, "scripts", "main.py")], json.dumps(args).encode(), ws,
                               base_env + ["WARDEN_SKILL_DIR=" + d, "WARDEN_SKILL_LIB=" + lib]) for _ in range(n))
            print("%-18s %10.1f %10.1f %12.1f %8.2f" % (name, statistics.median(times), times[int(0.9 * (n - 1))], peer_ms,
                                                        statistics.median(times) / peer_ms))


main()
