#!/usr/bin/env bash
# Delay from a saved change to the public API reflecting it (issue 5, point 7),
# with SQLite and with PostgreSQL. Prints median / p90 / max over 20 changes.
#   BIN=target/debug/locadocs bench/live.sh   # another build than release
#   PGURL=postgres://postgres@127.0.0.1:5432  # the PostgreSQL server (trust auth)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/locadocs}
[ -x "$BIN" ] || cargo build --release -p locadocs
COG=node_modules/@etalab/decoupage-administratif/data
OUT=bench/out
mkdir -p "$OUT"
PORT=${BENCH_LIVE_PORT:-18182}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
CHANGES=${BENCH_LIVE_CHANGES:-20}

measure() {
  local name=$1 url=$2
  export LOCADOCS_DATABASE_URL=$url
  $BIN import communes $COG >/dev/null
  $BIN demo >/dev/null
  $BIN serve --bind 127.0.0.1:$PORT > "$OUT/live-serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
  echo "$name (server polls the data version every 250 ms):"
  python3 bench/live.py "$BIN" "$url" "$PORT" "$CHANGES" || { kill $pid; return 1; }
  kill $pid; wait $pid 2>/dev/null || true
}

echo "== live delay: saved change -> public API =="
rm -f "$OUT"/live.db*
measure SQLite "sqlite://$OUT/live.db"
DB=locadocs_bench_live
if psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB" 2>/dev/null && psql "$PGURL/postgres" -qc "CREATE DATABASE $DB"; then
  measure PostgreSQL "$PGURL/$DB"
  psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB" || true
else
  echo "PostgreSQL: no server at $PGURL, skipped"
fi
