#!/usr/bin/env bash
# Runs every ```sh block of README.md verbatim, each in a new shell started in the repository's folder (as a new
# terminal would be), in the order a reader meets them, and checks what the README says they show:
#   - `cargo run --release` is left serving in the background until the end;
#   - `cargo test` is not run again here (it is .ci/run's first step);
#   - the subscriber block (the one running `node`) is left running, and must print the BREACH_REPORTED alert that
#     the next block's breach raises;
#   - every other block must exit 0 and print no GraphQL `errors`.
# Needs port 8080 free and no orderwatch.db in the folder (it creates one, as the README's server does).
set -euo pipefail
cd "$(dirname "$0")/.."
# A new terminal: none of the settings a caller (such as .ci/run) may have exported.
unset DATABASE_URL
while read -r v; do unset "$v"; done < <(compgen -e | grep '^ORDERWATCH_' || true)
root=$PWD
if ls orderwatch.db* >/dev/null 2>&1; then
  echo "readme: orderwatch.db already exists here; move it away first (this script creates and removes it)" >&2
  exit 2
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  # The server writes a last audit checkpoint as it stops: wait for every process of each group to end first.
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 -- -"$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -f "$root"/orderwatch.db "$root"/orderwatch.db-* "$root"/orderwatch.db.*
}
trap cleanup EXIT

# The blocks, one file each.
awk -v dir="$work" '
  /^```sh$/ { n++; file = sprintf("%s/block-%02d.sh", dir, n); inblock = 1; next }
  /^```$/ && inblock { inblock = 0; close(file); next }
  inblock { print > file }
' README.md
blocks=("$work"/block-*.sh)
echo "readme: ${#blocks[@]} blocks"

wait_for() { # wait_for SECONDS COMMAND...: polls until the command succeeds
  local until=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || return 1
    sleep 0.5
  done
}

subscriber_out=""
for block in "${blocks[@]}"; do
  name=$(basename "$block" .sh)
  text=$(cat "$block")
  echo "== $name"
  sed 's/^/   | /' "$block"
  if [[ "$text" == "cargo run --release" ]]; then
    setsid bash "$block" >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    if ! wait_for 1800 grep -q "serving http://" "$work/$name.out"; then
      cat "$work/$name.out" "$work/$name.err" >&2
      echo "readme: $name: the server did not start" >&2
      exit 1
    fi
    cat "$work/$name.out"
  elif [[ "$text" == "cargo test" ]]; then
    echo "   (run by .ci/run's first step)"
  elif grep -q '^TOKEN=.* node ' "$block"; then
    subscriber_out="$work/$name.out"
    setsid bash "$block" >"$subscriber_out" 2>"$work/$name.err" &
    pids+=($!)
    # Subscribed once the server counts a live subscriber.
    if ! wait_for 300 bash -c 'curl -s http://127.0.0.1:8080/metrics | grep -q "^orderwatch_alert_subscribers [1-9]"'; then
      cat "$work/$name.err" >&2
      echo "readme: $name: the subscriber did not connect" >&2
      exit 1
    fi
  else
    if ! bash "$block" >"$work/$name.out" 2>"$work/$name.err"; then
      cat "$work/$name.out" "$work/$name.err" >&2
      echo "readme: $name failed" >&2
      exit 1
    fi
    head -c 2000 "$work/$name.out"; echo
    if grep -q '"errors"' "$work/$name.out"; then
      echo "readme: $name answered with errors" >&2
      exit 1
    fi
  fi
done

if [[ -z "$subscriber_out" ]]; then
  echo "readme: no subscriber block found" >&2
  exit 1
fi
if ! wait_for 30 grep -q BREACH_REPORTED "$subscriber_out"; then
  cat "$subscriber_out" >&2
  echo "readme: the subscriber printed no BREACH_REPORTED alert" >&2
  exit 1
fi
echo "== the subscriber printed:"
cat "$subscriber_out"
echo "readme: every block ran"
