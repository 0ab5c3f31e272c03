#!/usr/bin/env bash
# Time of the statistics query and the open data over a synthetic set (`orderwatch seed --synthetic N`): seeds a new
# database, starts the release server on it, asks each question three times and prints each answer's time.
# Usage: benches/stats.sh [ORDERS] [postgres://.../EMPTY_DATABASE] (default 1000000 orders, on a new SQLite file in
# a temporary folder). A PostgreSQL database given must be empty. Needs a release build.
set -euo pipefail
orders="${1:-1000000}"
bin="$(cd "$(dirname "$0")/.." && pwd)/target/release/orderwatch"
dir="$(mktemp -d)"
# The server writes an audit checkpoint as it stops: let it finish before its folder goes.
trap 'kill "${server:-0}" 2>/dev/null && wait "${server:-0}" 2>/dev/null; rm -rf "$dir"' EXIT
export DATABASE_URL="${2:-sqlite://$dir/stats.db}" ORDERWATCH_LOG=warn ORDERWATCH_CHECK_INTERVAL=0
export ORDERWATCH_AUDIT_KEY="bench-1=bench-audit-key-of-at-least-thirty-two-bytes"
export ORDERWATCH_JWT_SECRET="bench-jwt-secret-of-at-least-thirty-two-bytes"
export ORDERWATCH_LISTEN=127.0.0.1:8091 ORDERWATCH_QUERY_TIMEOUT_MS=120000
"$bin" seed --synthetic "$orders" --seed 1
"$bin" serve & server=$!
until curl -sf http://127.0.0.1:8091/readyz >/dev/null; do sleep 0.2; done
token="$("$bin" token --role ANALYST --agency STATS --sub bench)"
today="$(TZ=Europe/London date +%F)"
for from in "$(TZ=Europe/London date -d '-1 year +1 day' +%F)" "$(TZ=Europe/London date -d '-4 years +1 day' +%F)"; do
  for run in 1 2 3; do
    curl -s -o /dev/null -w "statistics $from..$today run $run: %{http_code} %{time_total} s\n" http://127.0.0.1:8091/graphql \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      -d "{\"query\":\"{ statistics(from: \\\"$from\\\", to: \\\"$today\\\") { force orderType quarter ordersMade applications { granted } } }\"}"
  done
done
for run in 1 2 3; do
  curl -s -o /dev/null -w "open data one year run $run: %{http_code} %{time_total} s\n" \
    "http://127.0.0.1:8091/open-data/statistics.csv?from=$(TZ=Europe/London date -d '-1 year +1 day' +%F)&to=$today"
done
