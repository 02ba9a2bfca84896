#!/usr/bin/env bash
# Benchmarks, in release mode, printing their figures:
#  1. commune search (criterion): mean time per query over bench queries;
#  2. snapshot build (criterion): full national data + ~105,000 generated rules;
#  2b. public statistics (benches/stats.rs): /stats and /stats.json from three years of
#      daily aggregates built from 10 million generated events, beside a trivial page;
#  3. HTTP load (wrk): /api/v1/locate against /healthz in the same run, and the
#     server's resident memory with all that data loaded;
#  4. audience events (crates/server/benches/ingestion.rs): ingestion through
#     POST /api/v1/events on SQLite and PostgreSQL, guide pages with
#     recording on vs off.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

COG=node_modules/@etalab/decoupage-administratif/data
OUT=bench/out
mkdir -p "$OUT"

if [ "${BENCH_SKIP_CRITERION:-0}" != 1 ]; then
echo "== commune search and snapshot build (criterion) =="
{ cargo bench -p locadocs-core --bench search --bench snapshot -- --noplot; cargo bench -p locadocs --bench pages -- --noplot; cargo bench -p locadocs --bench requests; cargo bench -p locadocs --bench stats; } 2>&1 | grep -vE '^\s*$|Warming|Collecting|Analyzing' | tee "$OUT/criterion.txt"
fi

echo "== HTTP load =="
cargo build --release -p locadocs
BIN=target/release/locadocs
DB="sqlite://$OUT/bench.db"
rm -f "$OUT"/bench.db*
export LOCADOCS_DATABASE_URL=$DB
$BIN import communes $COG
$BIN demo >/dev/null
python3 bench/gen_holdings.py $COG/communes.json "$OUT/holdings.csv"
/usr/bin/time -f "import of the generated rules: %e s, %M KB max RSS" $BIN import holdings "$OUT/holdings.csv" | tail -2
PORT=${BENCH_PORT:-18181}
$BIN serve --bind 127.0.0.1:$PORT > "$OUT/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
grep -o 'snapshot rebuilt.*' "$OUT/serve.log" | sed 's/\x1b\[[0-9;]*m//g' | head -1 | sed 's/^/server start: /'
rules=$(curl -s "http://127.0.0.1:$PORT/" | grep -o '[0-9]* règles' || true)
echo "data loaded: $rules"
echo "resident memory after load: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"

echo "page weight, gzip as transferred (HTML + CSS + JS + fonts), first step and answer page:"
U="http://127.0.0.1:$PORT"
V=$(curl -s "$U/g/immobilier" | grep -o 'neutral.css?v=[0-9a-f]*' | head -1 | cut -d= -f2)
weight() {
  local total=0 n
  for u in "$@"; do
    n=$(curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$U$u")
    total=$((total + n)); printf '    %6d B  %s\n' "$n" "$u"
  done
  echo "    total: $total B ($(python3 -c "print(round($total/1024, 1))") KB)"
}
echo "  neutral theme, first step:"; weight "/g/immobilier" "/assets/neutral.css?v=$V" "/assets/guide.js?v=$V"
echo "  neutral theme, answer page:"; weight "/g/immobilier?document_type=permis-de-construire&commune=35238&year=2015" "/assets/neutral.css?v=$V" "/assets/guide.js?v=$V"
echo "  dsfr theme, first step (Marianne regular and bold, the weights used):"
D=$(curl -s "$U/g/immobilier?theme=dsfr" | grep -o '/assets/dsfr/[^/"]*/core' | head -1 | sed 's|/core$||')
weight "/g/immobilier?theme=dsfr" "$D/core/core.min.css" "/assets/neutral.css?v=$V" "/assets/guide.js?v=$V" "$D/fonts/Marianne-Regular.woff2" "$D/fonts/Marianne-Bold.woff2"

THREADS=2; CONN=32; DUR=${BENCH_SECONDS:-5}s; ROUNDS=${BENCH_ROUNDS:-5}
python3 bench/gen_cold_lua.py $COG/communes.json "$OUT/cold.lua"
. bench/ratio.sh
echo "wrk -t$THREADS -c$CONN -d$DUR, scripted requests prepared once per thread, $ROUNDS rounds each"
echo "  480 questions (20 communes x 4 types x 6 years), each answered from the answer cache once asked:"
ratio "480 questions" -s bench/locate.lua "$U"
echo "  72,000 distinct questions (3,000 communes x 4 types x 6 years): mostly computed, cache misses:"
ratio "72,000 questions" -s "$OUT/cold.lua" "$U"
echo "  one fixed URL (Rennes, 2015):"
ratio "one URL" "$U/api/v1/locate?document_type=permis-de-construire&commune=35238&year=2015"
echo "resident memory after load test: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"

echo "== audience events: ingestion and page throughput with recording on/off =="
LOCADOCS_BIN=$BIN cargo bench -p locadocs --bench ingestion

echo "== widget weight and time to first step (headless Chromium) =="
LOCADOCS_BIN=$BIN node bench/embed.mjs

BIN=$BIN bench/live.sh
