#!/usr/bin/env bash
# Time of the statistics query and the open data over a synthetic set (`orderwatch seed --synthetic N`): seeds a new
# database, starts the release server on it, asks each question three times and prints each answer's time. The
# first answer over a period computes and keeps its whole ended months (docs/statistics.md); the next ones reuse them.
# Usage: benches/stats.sh [ORDERS] [DATABASE_URL] (default 1000000 orders, on a new SQLite file in a temporary
# folder). A database given must be empty, or hold this set already (it is then not loaded again, and its kept
# months are emptied first). Needs a release build.
set -euo pipefail
orders="${1:-1000000}"
bin="$(cd "$(dirname "$0")/.." && pwd)/target/release/orderwatch"
dir="$(mktemp -d)"
# The server writes an audit checkpoint as it stops: let it finish before its folder goes.
trap 'if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; fi; rm -rf "$dir"' EXIT
export DATABASE_URL="${2:-sqlite://$dir/stats.db}" ORDERWATCH_LOG=warn ORDERWATCH_CHECK_INTERVAL=0
export ORDERWATCH_AUDIT_KEY="bench-1=bench-audit-key-of-at-least-thirty-two-bytes"
export ORDERWATCH_JWT_SECRET="bench-jwt-secret-of-at-least-thirty-two-bytes"
export ORDERWATCH_LISTEN=127.0.0.1:8091 ORDERWATCH_QUERY_TIMEOUT_MS=120000
if ! loaded="$("$bin" seed --synthetic "$orders" --seed 1 2>&1)"; then
  case "$loaded" in *"already loaded"*) ;; *) echo "$loaded" >&2; exit 1 ;; esac
fi
echo "$loaded"
"$bin" migrate
case "$DATABASE_URL" in
  postgres*) psql "$DATABASE_URL" -qc 'DELETE FROM statistics_months' ;;
  *) sqlite3 "${DATABASE_URL#sqlite://}" 'DELETE FROM statistics_months' ;;
esac
"$bin" serve & server=$!
until curl -sf http://127.0.0.1:8091/readyz >/dev/null; do sleep 0.2; done
token="$("$bin" token --role ANALYST --agency STATS --sub bench)"
today="$(TZ=Europe/London date +%F)"
# The four quarters before the current one.
month=$(TZ=Europe/London date +%-m); year=$(TZ=Europe/London date +%Y)
quarter_start="$year-$(printf %02d $(( (month - 1) / 3 * 3 + 1 )))-01"
ended_from="$(date -d "$quarter_start -1 year" +%F)"; ended_to="$(date -d "$quarter_start -1 day" +%F)"
for period in "$(TZ=Europe/London date -d '-1 year +1 day' +%F) $today" "$ended_from $ended_to" \
  "$(TZ=Europe/London date -d '-4 years +1 day' +%F) $today"; do
  set -- $period
  for run in 1 2 3; do
    curl -s -o /dev/null -w "statistics $1..$2 run $run: %{http_code} %{time_total} s\n" http://127.0.0.1:8091/graphql \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"query\":\"{ statistics(from: \\\"$1\\\", to: \\\"$2\\\") { force orderType quarter ordersMade applications { granted } } }\"}"
  done
done
for run in 1 2 3; do
  curl -s -o /dev/null -w "open data one year run $run: %{http_code} %{time_total} s\n" \
    "http://127.0.0.1:8091/open-data/statistics.csv?from=$(TZ=Europe/London date -d '-1 year +1 day' +%F)&to=$today"
done
