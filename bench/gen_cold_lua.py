#!/usr/bin/env python3
"""Writes a wrk script whose locate requests spread over 3,000 communes, four
document types and six years (72,000 distinct questions): most requests
miss the answer cache, so the figure measures the engine itself.
Usage: gen_cold_lua.py COMMUNES_JSON OUT_LUA"""
import json
import random
import sys

communes = [c["code"] for c in json.load(open(sys.argv[1], encoding="utf-8")) if c["type"] == "commune-actuelle"]
random.seed(42)
codes = random.sample(communes, 3000)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write("local codes = {" + ",".join(f'"{c}"' for c in codes) + "}\n")
    out.write('''local docs = {"permis-de-construire", "cadastre", "acte-notarie", "acte-de-naissance"}
local years = {"1890", "1950", "1985", "2015", "2024", "inconnu"}
local total = #codes * #docs * #years
-- Each thread starts at its own place in the sequence, so that one thread
-- does not ask what another has just asked (and find it cached).
local threads = 0
setup = function(thread)
  thread:set("start", threads * 36000)
  threads = threads + 1
end
local reqs = {}
local i = 0
init = function(args)
  -- Formatted once per thread, as healthz.lua does with its one request.
  for n = 0, total - 1 do
    local c = codes[(n % #codes) + 1]
    local d = docs[(math.floor(n / #codes) % #docs) + 1]
    local y = years[(math.floor(n / (#codes * #docs)) % #years) + 1]
    reqs[n + 1] = wrk.format("GET", "/api/v1/locate?document_type=" .. d .. "&commune=" .. c .. "&year=" .. y)
  end
  i = start or 0
end
request = function()
  i = i % total + 1
  return reqs[i]
end
''')
