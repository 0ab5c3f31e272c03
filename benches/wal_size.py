#!/usr/bin/env python3
"""SQLite file sizes while breaches are reported: the database, its WAL and shared memory after 1,000, 5,000 and
10,000 breaches over HTTP, and after the server stops. Runs the release binary (`cargo build --release` first) on a
new database in a temporary folder; prints one line per step.

    python3 benches/wal_size.py [BREACHES]
"""
import http.client, json, os, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.environ.get("ORDERWATCH_BIN", os.path.join(root, "target", "release", "orderwatch"))
breaches = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
folder = tempfile.mkdtemp(prefix="ow-wal-")
env = dict(os.environ, DATABASE_URL=f"sqlite://{folder}/ow.db", ORDERWATCH_LISTEN="127.0.0.1:18081",
           ORDERWATCH_LOG="warn", ORDERWATCH_CHECK_INTERVAL="0")


def sizes():
    return {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))
            if f in ("ow.db", "ow.db-wal", "ow.db-shm")}


server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    for line in server.stdout:
        if "serving" in line:
            break
    subprocess.run([binary, "seed", "--demo"], env=env, capture_output=True, check=True)
    token = subprocess.run([binary, "token", "--role", "POLICE", "--agency", "MET", "--sub", "bench"], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    connection = http.client.HTTPConnection("127.0.0.1", 18081)
    query = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }"
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    started, acknowledged = time.time(), 0
    for i in range(breaches):
        body = json.dumps({"query": query, "variables": {"i": {"reference": "WMC/SPO/0001", "occurredAt": occurred,
                                                               "description": "measured", "externalRef": f"WAL-{i}"}}})
        connection.request("POST", "/graphql", body, {"Authorization": "Bearer " + token,
                                                      "Content-Type": "application/json"})
        answer = json.loads(connection.getresponse().read())
        acknowledged += 1 if (answer.get("data") or {}).get("reportBreach") else 0
        if i + 1 in (1_000, 5_000):
            print(f"after {i + 1} breaches: {sizes()}", flush=True)
    print(f"after {breaches} breaches ({acknowledged} acknowledged in {time.time() - started:.1f} s): {sizes()}")
finally:
    server.terminate()
    server.wait()
print(f"after the server stopped: {sizes()}")
