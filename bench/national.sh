#!/usr/bin/env bash
# National scale, before and after, in one run (release): the data of the
# HTTP benchmark (full COG, the demo with the national baseline, ~105,000
# generated rules), then the same with a departmental archives service per
# département and a town hall per current commune added (~35,000 competence
# entries, `bench/gen_services.py`). For each: server start (snapshot
# build), resident memory, and locate / healthz on the 72,000-question mix,
# whose notarial-deed, cadastre and birth questions resolve holders by kind.
# The import of those services through the recorded write path is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
COG=node_modules/@etalab/decoupage-administratif/data
OUT=bench/out
mkdir -p "$OUT"
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --locked -p locadocs
BIN=$TARGET/release/locadocs
rm -f "$OUT"/national.db*
export LOCADOCS_DATABASE_URL="sqlite://$OUT/national.db"
$BIN migrate
$BIN import communes $COG >/dev/null
$BIN demo >/dev/null
python3 bench/gen_holdings.py $COG/communes.json "$OUT/holdings.csv"
$BIN import holdings "$OUT/holdings.csv" | tail -1
python3 bench/gen_cold_lua.py $COG/communes.json "$OUT/cold.lua"

PORT=${BENCH_PORT:-18182}
U="http://127.0.0.1:$PORT"
THREADS=2; CONN=32; DUR=${BENCH_SECONDS:-5}s; ROUNDS=${BENCH_ROUNDS:-5}
. bench/ratio.sh
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT
measure() {
  $BIN serve --bind 127.0.0.1:$PORT > "$OUT/national-serve.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 200); do curl -sf "$U/healthz" >/dev/null && break; sleep 0.1; done
  grep -o 'snapshot rebuilt.*' "$OUT/national-serve.log" | sed 's/\x1b\[[0-9;]*m//g' | head -1 | sed 's/^/  server start: /'
  echo "  resident memory after load: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"
  curl -s "$U/api/v1/locate?document_type=acte-notarie&commune=01001&year=1900" \
    | python3 -c "import json,sys; m=json.load(sys.stdin)['matches']; print('  notarial deed of 1900 at L\'Abergement-Clémenciat:', m[0]['service'].get('id'), '/', m[0]['service']['name'])"
  ratio "72,000 questions" -s "$OUT/cold.lua" "$U"
  echo "  resident memory after the load runs: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"
  kill $PID; wait $PID 2>/dev/null || true; PID=
}

echo "== before: national rules, demo services only =="
measure
$BIN export services "$OUT/services-existing.csv" >/dev/null
python3 bench/gen_services.py $COG "$OUT/services-existing.csv" "$OUT/services-national.csv"
/usr/bin/time -f "  import: %e s, %M KB max RSS" $BIN import services "$OUT/services-national.csv" | tail -2
echo "== after: a departmental archives service per département, a town hall per commune =="
measure
