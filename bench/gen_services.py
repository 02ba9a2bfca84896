#!/usr/bin/env python3
"""Generates a services CSV at national scale for the benchmarks: one
departmental archives service per département (competent for it) and one
town hall per current commune (competent for its commune), skipping the
départements and communes that already have one in an exported services file.

usage: gen_services.py <cog data dir> <existing services.csv> <out.csv>

The names are the COG's; no contact detail is generated."""
import csv
import json
import re
import sys

cog, existing, out = sys.argv[1:4]
have_ad, have_mairie = set(), set()
with open(existing, encoding="utf-8-sig", newline="") as f:
    for row in csv.DictReader(f, delimiter=";"):
        if row["kind"] == "mairie" and row.get("commune"):
            have_mairie.add(row["commune"])
        for t in (row.get("competence") or "").split("|"):
            if row["kind"] == "archives-departementales" and t.startswith("departement:"):
                have_ad.add(t.split(":", 1)[1])
        if row["kind"] == "mairie":
            for t in (row.get("competence") or "").split("|"):
                if t.startswith("commune:"):
                    have_mairie.add(t.split(":", 1)[1])

departements = json.load(open(f"{cog}/departements.json", encoding="utf-8"))
communes = json.load(open(f"{cog}/communes.json", encoding="utf-8"))
rows = []
# The 101 départements: the overseas collectivities (984, 986–989) have no
# departmental archives of their own.
DEPT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")
for d in departements:
    code = d["code"]
    if code in have_ad or not DEPT.match(code):
        continue
    rows.append((f"bench-ad-{code.lower()}", f"Archives départementales {d['nom']}",
                 "archives-departementales", "", f"departement:{code}"))
for c in communes:
    if c["type"] != "commune-actuelle" or c["code"] in have_mairie:
        continue
    code = c["code"]
    rows.append((f"bench-mairie-{code.lower()}", f"Mairie de {c['nom']}", "mairie", code,
                 f"commune:{code}"))
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, delimiter=";")
    w.writerow(["id", "name", "kind", "commune", "competence"])
    w.writerows(rows)
print(f"{len(rows)} services written to {out}", file=sys.stderr)
