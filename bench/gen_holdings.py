#!/usr/bin/env python3
"""Writes a synthetic holdings CSV for load tests: three non-overlapping
cadastre rules per current commune (a type the demo gives no rules) (about 105,000 rules), pointing at
services of the demo dataset. Usage: gen_holdings.py COMMUNES_JSON OUT_CSV"""
import json
import sys

communes = json.load(open(sys.argv[1], encoding="utf-8"))
services = ["archives-rennes", "archives-le-havre", "le-havre-droit-des-sols"]
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("document_type;territory;from;to;service;instructions\n")
    n = 0
    for c in communes:
        if c["type"] != "commune-actuelle":
            continue
        code = c["code"]
        out.write(f"cadastre;commune:{code};1900;1949;{services[0]};Règle de charge {n}\n")
        out.write(f"cadastre;commune:{code};1950;1999-06-30;{services[1]};\n")
        out.write(f"cadastre;commune:{code};1999-07-01;;{services[2]};\n")
        n += 3
print(n, file=sys.stderr)
