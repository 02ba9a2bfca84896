#!/usr/bin/env python3
"""Delay from a saved rule change to the public API reflecting it.

Usage: live.py BIN DATABASE_URL PORT [CHANGES]

Expects a server (`BIN serve`) on 127.0.0.1:PORT over DATABASE_URL, loaded
with the demo data. Each change rewrites the instructions of the Rennes
building-permit rule through the store (`BIN import holdings`, the same
write path as the back office's import), then polls /api/v1/locate every
5 ms until the answer carries the new text. The delay is counted from the
end of the write command (the transaction is committed by then).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

bin_, url, port = sys.argv[1], sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 20
api = f"http://127.0.0.1:{port}/api/v1/locate?document_type=permis-de-construire&commune=35238&year=1950"
header = "document_type;territory;from;to;service;instructions;source;verified_at\n"
env = dict(os.environ, LOCADOCS_DATABASE_URL=url)


def answer():
    with urllib.request.urlopen(api, timeout=5) as r:
        body = json.load(r)
    return body["matches"][0].get("instructions") or ""


delays = []
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "change.csv")
    for i in range(n):
        text = f"Mesure du délai de mise en ligne, changement {i} ({time.time_ns()})."
        with open(path, "w", encoding="utf-8") as f:
            f.write(header + f"permis-de-construire;commune:35238;1908;2015-06-30;archives-rennes;{text};;\n")
        done = subprocess.run([bin_, "import", "holdings", path], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"change {i} refused:\n{done.stdout}{done.stderr}")
        saved = time.monotonic()
        while answer() != text:
            if time.monotonic() - saved > 10:
                sys.exit(f"change {i} not visible after 10 s")
            time.sleep(0.005)
        delays.append((time.monotonic() - saved) * 1000)
        # Changes spread over the polling period, as real edits are.
        time.sleep(0.037 * (i % 7))

delays.sort()
print(
    f"  {n} changes: median {statistics.median(delays):.0f} ms, "
    f"p90 {delays[int(0.9 * (n - 1))]:.0f} ms, max {max(delays):.0f} ms, min {min(delays):.0f} ms"
)
