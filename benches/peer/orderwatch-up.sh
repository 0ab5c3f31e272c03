#!/usr/bin/env bash
# Start orderwatch (the project's release binary) on the peer cluster and seed it with N orders, the way the
# project's own load tool does: 10 template orders granted through the API, then N copies in bulk SQL.
#   OW_BIN=/path/to/orderwatch ./orderwatch-up.sh [N]      (default 100000; N=0 reuses what is there)
# Prints the URL; the PID is in .run/orderwatch.pid and a POLICE token for MET in .run/orderwatch.token.
# env: OW_PORT (5680), OW_DB (orderwatch), PEER_PGPORT (5433), OW_EXTRA_ENV (more VAR=value for the server)
set -euo pipefail
cd "$(dirname "$0")"
N="${1:-100000}"
BIN="${OW_BIN:?OW_BIN=path to the orderwatch release binary}"
PORT="${OW_PORT:-5680}"; DB="${OW_DB:-orderwatch}"; PGPORT="${PEER_PGPORT:-5433}"
ADMIN_URL="postgres://peer:peer@127.0.0.1:$PGPORT/peer"
URL_DB="postgres://peer:peer@127.0.0.1:$PGPORT/$DB?sslmode=disable"
SECRET="peer-secret-0123456789abcdef0123456789abcdef"
mkdir -p .run
export ORDERWATCH_JWT_SECRET="$SECRET" DATABASE_URL="$URL_DB"
if [ "$N" != 0 ]; then
  psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
fi
# shellcheck disable=SC2086
env ORDERWATCH_LISTEN="127.0.0.1:$PORT" ORDERWATCH_CHECK_INTERVAL=0 ORDERWATCH_LOG=warn ${OW_EXTRA_ENV:-} \
  "$BIN" serve > .run/orderwatch.out 2> .run/orderwatch.err &
echo $! > .run/orderwatch.pid
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null
G="http://127.0.0.1:$PORT/graphql"
gql() {
  local out; out=$(curl -fsS "$G" -H "authorization: Bearer $1" -H 'content-type: application/json' -d "$2")
  if grep -q '"errors"' <<<"$out"; then echo "orderwatch-up: $out" >&2; exit 1; fi
}
if [ "$N" != 0 ]; then
  ADMIN=$("$BIN" token --role ADMIN --agency OPS --sub peer-admin)
  for a in MET:POLICE_FORCE GMP:POLICE_FORCE WMC:COURT ADV-A:ADVOCACY_SERVICE; do
    gql "$ADMIN" '{"query":"mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }","variables":{"i":{"code":"'"${a%%:*}"'","name":"'"${a%%:*}"'","kind":"'"${a##*:}"'"}}}'
  done
  COURT=$("$BIN" token --role COURT --agency WMC --sub peer-clerk)
  TODAY=$(date +%F)
  for t in 0 1 2 3 4 5 6 7 8 9; do
    if [ $((t % 2)) = 0 ]; then TYPE=SPO; EXP="\"$(date -d "$TODAY +$((731 + t)) days" +%F)\""; else TYPE=RESTRAINING_ORDER; EXP=null; fi
    if [ $((t % 3)) = 0 ]; then APP=GMP; else APP=MET; fi
    gql "$COURT" '{"query":"mutation($i: GrantOrderInput!) { grantOrder(input: $i) { reference } }","variables":{"i":{"reference":"WMC/TPL/'$t'","type":"'$TYPE'","applicantAgency":"'$APP'","subject":{"names":["Template Subject","Alias"],"dateOfBirth":"1980-05-05"},"protectedPersons":[{"name":"Template Person","dateOfBirth":"1990-01-01","contact":"07700 900123"}],"madeOn":"'$TODAY'","expiresOn":'$EXP',"conditions":[{"kind":"PROHIBITION","text":"Must not contact the protected person"},{"kind":"PROHIBITION","text":"Must not enter the exclusion zone"}]}}}'
  done
  S="FROM generate_series(1, $N) AS s(i) JOIN orders o ON o.reference = 'WMC/TPL/' || (s.i % 10)"
  F() { echo "$S JOIN $1 t ON t.order_id = o.id"; }
  NEW="'seed-' || lpad(s.i::text, 8, '0')"
  psql -X -q -v ON_ERROR_STOP=1 "$URL_DB" <<SQL
INSERT INTO orders (id, reference, order_type, status, made_on, expires_on, applicant_agency, court_agency, subject_date_of_birth, replaces_order_id, version, service_status, served_at, service_method, served_by_agency, served_by, created_at, updated_at)
  SELECT $NEW, 'LOAD/' || s.i, o.order_type, o.status, o.made_on, o.expires_on, o.applicant_agency, o.court_agency, o.subject_date_of_birth, NULL, o.version, o.service_status, o.served_at, o.service_method, o.served_by_agency, o.served_by, o.created_at, o.updated_at $S;
INSERT INTO subject_names (id, order_id, position, name, name_key) SELECT t.id || '-' || s.i, $NEW, t.position, 'Subject ' || s.i || ' ' || t.position, 'subject ' || s.i || ' ' || t.position $(F subject_names);
INSERT INTO protected_persons (id, order_id, position, name, date_of_birth, contact) SELECT t.id || '-' || s.i, $NEW, t.position, 'Person ' || s.i, t.date_of_birth, t.contact $(F protected_persons);
INSERT INTO conditions (id, order_id, position, kind, text, expires_on, added_in_version, removed_in_version) SELECT t.id || '-' || s.i, $NEW, t.position, t.kind, t.text, t.expires_on, t.added_in_version, t.removed_in_version $(F conditions);
INSERT INTO order_versions (order_id, version, event, status, expires_on, recorded_at, recorded_by, recorded_by_agency, note) SELECT $NEW, t.version, t.event, t.status, t.expires_on, t.recorded_at, t.recorded_by, t.recorded_by_agency, t.note $(F order_versions);
INSERT INTO deadlines (id, order_id, kind, occasion, due_at, status, met_at, rule, statute, updated_at) SELECT t.id || '-' || s.i, $NEW, t.kind, t.occasion, t.due_at, t.status, t.met_at, t.rule, t.statute, t.updated_at $(F deadlines);
INSERT INTO scheduled_alerts (id, order_id, kind, occasion, due_at, fire_at, state, done_at) SELECT t.id || '-' || s.i, $NEW, t.kind, t.occasion, t.due_at, t.fire_at, t.state, t.done_at $(F scheduled_alerts);
VACUUM ANALYZE;
SQL
fi
"$BIN" token --role POLICE --agency MET --sub peer-officer > .run/orderwatch.token
echo "orderwatch: $(psql -X -tAq "$URL_DB" -c 'select count(*) from orders') orders; pid $(cat .run/orderwatch.pid)" >&2
echo "http://127.0.0.1:$PORT/graphql"
