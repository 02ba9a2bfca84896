# Sourced by the HTTP benchmarks: `ratio NAME WRK-ARGS…` prints the median
# over $ROUNDS rounds of one locate run divided by the mean of the /healthz
# runs just before and after it. Needs $U, $THREADS, $CONN, $DUR, $ROUNDS.
rps() { wrk -t$THREADS -c$CONN -d$DUR "$@" | awk '/Requests\/sec/ {print $2}'; }
# The machine is shared and its speed drifts: /healthz runs before and after
# each locate run, each locate run is compared with the mean of its two
# neighbours, and the median of the rounds is the figure.
ratio() {
  local name=$1; shift
  local h h2 l ratios=""
  h=$(rps -s bench/healthz.lua "$U")
  for r in $(seq 1 "$ROUNDS"); do
    l=$(rps "$@")
    h2=$(rps -s bench/healthz.lua "$U")
    ratios="$ratios $(python3 -c "print(round($l / (($h + $h2) / 2), 3))")"
    echo "    round $r: healthz $h then $h2 req/s; locate $l req/s"
    h=$h2
  done
  python3 -c "import statistics; r=[float(x) for x in '$ratios'.split()]; print(f'  {\"$name\"}: locate / healthz = {statistics.median(r):.2f} (median of {len(r)} rounds: {\", \".join(f\"{x:.2f}\" for x in r)}; target >= 0.80)')"
}
