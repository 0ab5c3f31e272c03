#!/usr/bin/env bash
# CPU a request costs each process on the machine (server, PostgreSQL, load tool), read from /proc over a window in
# the middle of one load-tool run, with the requests answered in that window from the server's /metrics.
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres benches/cpu.sh --scenarios lookup --concurrency 32
#
# Arguments go to `cargo bench --bench load --` (give one scenario and one concurrency; --seconds defaults to 14
# here). The window starts WARMUP seconds after the run (default 8: build, seeding and start-up) and lasts WINDOW
# seconds (default 4). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
warmup=${WARMUP:-8}
window=${WINDOW:-4}
cargo bench --bench load --no-run -q 2>/dev/null
out=$(mktemp)
cargo bench -q --bench load -- --orders 10000 --seconds 14 "$@" >"$out" 2>&1 &
run=$!
sleep "$warmup"
port=$(ss -ltnp | grep '"orderwatch"' | grep -o '127.0.0.1:[0-9]*' | head -1)
[ -n "$port" ] || { echo "no orderwatch server listening yet; raise WARMUP" >&2; kill $run; exit 1; }
# CPU ticks (user + system) by process name, summed over processes of the same name.
snap() {
  for p in /proc/[0-9]*; do
    name=$(tr -d '\0' <"$p/comm" 2>/dev/null) || continue
    stat=$(cat "$p/stat" 2>/dev/null) || continue
    set -- ${stat##*) }
    echo "$name $(( ${12} + ${13} ))"
  done | awk '{a[$1]+=$2} END {for (k in a) print k, a[k]}'
}
answered() { curl -s "http://$port/metrics" | awk '/^orderwatch_graphql_requests_total/ {s+=$NF} END {print s+0}'; }
t0=$(date +%s.%N); snap >"$out.1"; r0=$(answered)
sleep "$window"
t1=$(date +%s.%N); snap >"$out.2"; r1=$(answered)
wait $run
hz=$(getconf CLK_TCK)
awk -v t0="$t0" -v t1="$t1" -v n="$((r1 - r0))" -v hz="$hz" '
  BEGIN { t = t1 - t0 }
  NR == FNR { before[$1] = $2; next }
  { d = ($2 - before[$1]) / hz; if (d / t > 0.02) { printf "%-18s %5.2f cores %7.3f CPU-ms a request\n", $1, d / t, d * 1000 / n; all += d } }
  END { printf "%-18s %5.2f cores %7.3f CPU-ms a request (%d requests/s in the window)\n", "all", all / t, all * 1000 / n, n / t }
' "$out.1" "$out.2"
grep -E '^(PostgreSQL|SQLite) +[a-z]+ +orders' "$out" | head -1
rm -f "$out" "$out.1" "$out.2"
