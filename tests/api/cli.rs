//! The `orderwatch` command as a user runs it.

use crate::helpers::*;
use serde_json::json;
use std::process::Command;

fn orderwatch(database_url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orderwatch"));
    c.env("DATABASE_URL", database_url)
        .env("ORDERWATCH_JWT_SECRET", SECRET)
        .env("ORDERWATCH_AUDIT_KEY", AUDIT_KEY)
        .env("ORDERWATCH_LOG", "warn");
    c
}

#[tokio::test]
async fn token_mints_a_token_the_server_accepts() {
    let app = TestApp::spawn().await;
    let out = app
        .cli()
        .args([
            "token", "--role", "COURT", "--agency", "WMC", "--sub", "clerk-7", "--ttl", "30m",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let r = app
        .gql(&token, "{ me { sub role agency } }", json!({}))
        .await;
    assert_eq!(
        r.ok()["me"],
        json!({ "sub": "clerk-7", "role": "COURT", "agency": "WMC" })
    );

    let bad = app
        .cli()
        .args(["token", "--role", "BOSS", "--agency", "WMC", "--sub", "x"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("COURT, POLICE, ADVOCATE, ADMIN, AUDITOR")
    );

    let mint = |role: &str| {
        app.cli()
            .args([
                "token",
                "--role",
                role,
                "--agency",
                "MET",
                "--sub",
                "sgt-1",
                "--supervisor",
            ])
            .output()
            .unwrap()
    };
    let court = mint("COURT");
    assert!(!court.status.success());
    assert!(String::from_utf8_lossy(&court.stderr).contains("POLICE tokens only"));
    let sergeant = String::from_utf8(mint("POLICE").stdout).unwrap();
    let r = app
        .gql(sergeant.trim(), "{ me { supervisor } }", json!({}))
        .await;
    assert_eq!(r.ok()["me"]["supervisor"], true);
}

#[test]
fn an_unsupported_database_url_names_the_accepted_forms_and_hides_the_password() {
    let out = orderwatch("mysql://root:hunter2@localhost/db")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sqlite://") && err.contains("postgres://"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn schema_prints_the_checked_in_sdl() {
    let out = orderwatch("sqlite://unused.db")
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn migrate_and_seed_demo_on_a_new_sqlite_file_can_run_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut c = Command::new(env!("CARGO_BIN_EXE_orderwatch"));
    c.env("DATABASE_URL", &url)
        .env("ORDERWATCH_LOG", "warn")
        .arg("migrate");
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seed = || orderwatch(&url).args(["seed", "--demo"]).output().unwrap();
    let first = seed();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8_lossy(&first.stdout)
        .contains("7 agencies and 3 orders created, 0 already present"));
    let second = seed();
    assert!(String::from_utf8_lossy(&second.stdout)
        .contains("0 agencies and 0 orders created, 10 already present"));
    // Without ORDERWATCH_JWT_SECRET, `token` makes no secret of its own (a token no server accepts): it says
    // where the server keeps one and how to get it.
    let token = || {
        Command::new(env!("CARGO_BIN_EXE_orderwatch"))
            .env("DATABASE_URL", &url)
            .args(["token", "--role", "POLICE", "--agency", "MET", "--sub", "o"])
            .output()
            .unwrap()
    };
    let secret = dir.path().join("demo.db.jwt-secret");
    let refused = token();
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(
        text.contains("demo.db.jwt-secret") && text.contains("Start the server once"),
        "{text}"
    );
    assert!(!secret.exists());
    // The server makes it beside the database file, readable by its owner only; then `token` uses it.
    let mut server = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_orderwatch"))
            .env("DATABASE_URL", &url)
            .env("ORDERWATCH_LISTEN", "127.0.0.1:0")
            .env("ORDERWATCH_LOG", "warn")
            .env("ORDERWATCH_CHECK_INTERVAL", "0")
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    assert!(lines.any(|l| l.unwrap().contains("serving")));
    drop(server);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(token().status.success());
}

#[tokio::test]
async fn check_runs_the_checks_once_at_the_moment_given_and_prints_what_it_raised() {
    let app = TestApp::spawn().await.with_agencies().await;
    // Recorded three days ago (real time), so its unserved alert is already due now.
    app.clock
        .set(chrono::Utc::now() - chrono::Duration::days(3));
    let mut order = spo_input(&app, "WMC/CLI/1");
    order["type"] = json!("RESTRAINING_ORDER");
    order["conditions"] = json!([]);
    order["expiresOn"] = json!((app.today() + chrono::Duration::days(100)).to_string());
    app.grant(&app.token(orderwatch::auth::Role::Court, "WMC"), order)
        .await
        .ok();
    let run = |args: &[&str]| {
        let out = app.cli().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    // With --now alone, a dry run: it says what it would raise, at any moment, and writes nothing.
    let before = app.snapshot().await;
    let future = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    let printed = run(&["check", "--now", &future]);
    assert!(
        printed.contains("ORDER_EXPIRED") && printed.contains("alerts would be raised"),
        "{printed}"
    );
    assert!(printed.contains("nothing was written"), "{printed}");
    assert_eq!(app.snapshot().await, before);
    // Committing a run at a future moment is refused: it would end orders early on a live database.
    let refused = app
        .cli()
        .args(["check", "--now", &future, "--commit"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("future moment"));
    assert_eq!(app.snapshot().await, before);
    // A moment already passed can be committed (catching up after an outage); so can a run at the real now.
    let at = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let printed = run(&["check", "--now", &at, "--commit"]);
    assert!(
        printed.contains("UNSERVED_ORDER")
            && printed.contains("WMC/CLI/1")
            && printed.contains("late by"),
        "{printed}"
    );
    assert!(printed.contains(": 1 alerts raised"), "{printed}");
    assert!(run(&["check"]).contains(": 0 alerts raised"));
    let bad = app
        .cli()
        .args(["check", "--now", "tomorrow"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}

#[test]
fn schema_for_a_role_prints_only_what_that_role_may_use() {
    let sdl = |role: &str| {
        let out = orderwatch("sqlite://unused.db")
            .args(["schema", "--role", role])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let court = sdl("COURT");
    assert!(court.contains("grantOrder(") && court.contains("scheduleHearing("));
    assert!(
        !court.contains("reportBreach(")
            && !court.contains("type Breach ")
            && !court.contains("auditEvents(")
    );
    let police = sdl("POLICE");
    assert!(police.contains("reportBreach(") && police.contains("type Breach {"));
    assert!(sdl("AUDITOR").contains("auditEvents("));
    let bad = orderwatch("sqlite://unused.db")
        .args(["schema", "--role", "KING"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[tokio::test]
async fn the_server_logs_no_names_addresses_contact_details_narratives_or_tokens() {
    use orderwatch::auth::Role;
    use std::io::{BufRead, BufReader, Read};
    let app = TestApp::spawn().await.with_agencies().await;
    app.on_system_clock();
    // A second server, the real binary, on the same database, logging everything it logs.
    let mut child = ChildGuard(
        app.cli()
            .env("ORDERWATCH_LOG", "debug")
            .env("ORDERWATCH_LISTEN", "127.0.0.1:0")
            .env("ORDERWATCH_CHECK_INTERVAL", "1")
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_end_matches("/graphql")
        .to_string();
    let post = |token: String, query: &str, vars: serde_json::Value| {
        let c = reqwest::Client::new();
        let req = c
            .post(format!("{url}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": vars }));
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let court = app.token(Role::Court, "WMC");
    let mut order = spo_input(&app, "WMC/LOG/1");
    order["protectedPersons"][0]["contact"] = json!("07700 900999, 9 Hidden Road");
    let granted = post(court.clone(), GRANT, json!({ "i": order })).await;
    assert!(granted.contains("WMC/LOG/1"), "{granted}");
    let met = app.token(Role::Police, "MET");
    let at = app.now().to_rfc3339();
    post(met.clone(), "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/LOG/1\", occurredAt: $at, description: \"Sam followed Pat to 9 Hidden Road\", externalRef: \"LOG-INC\" }) { id } }", json!({ "at": at })).await;
    post(met.clone(), "{ orders(filter: { subjectName: \"Sam Subject\" }) { edges { node { protectedPersons { name contact } } } } }", json!({})).await;
    post(met.clone(), "mutation { grantOrder(input: { reference: \"bad ref\", type: SPO, applicantAgency: \"MET\", subject: { names: [\"Sam Subject\"] }, protectedPersons: [{ name: \"Pat Protected\" }], madeOn: \"2099-01-01\" }) { reference } }", json!({})).await;
    post("a.b.c".into(), "{ me { sub } }", json!({})).await;
    child.kill().unwrap();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    assert!(
        logs.contains("order granted") && logs.contains("breach reported"),
        "the logs say what happened:\n{logs}"
    );
    for secret in [
        "Sam Subject",
        "Sammy",
        "Pat Protected",
        "07700",
        "Hidden Road",
        "followed",
        &court[..30],
        &met[..30],
    ] {
        assert!(
            !logs.contains(secret),
            "a log line holds {secret:?}:\n{logs}"
        );
    }
}

#[test]
fn logs_can_be_json_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("json.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_orderwatch"))
        .env("DATABASE_URL", &url)
        .env("ORDERWATCH_LOG", "info")
        .env("ORDERWATCH_LOG_FORMAT", "json")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(
            v.get("level").is_some() && v.get("fields").is_some(),
            "{line}"
        );
    }
}

/// Runs `migrate` on a new SQLite file with `var` set to `value`: its output, and whether the file now exists.
fn migrate_a_new_file_with(var: &str, value: &str) -> (std::process::Output, bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let out = orderwatch(&format!("sqlite://{}", path.display()))
        .env(var, value)
        .arg("migrate")
        .output()
        .unwrap();
    (out, path.exists())
}

/// The audit writer's gather window is bounded: a wait of more than 10 ms would hold every read that long.
#[test]
fn an_audit_gather_window_past_ten_milliseconds_is_refused_before_the_database_is_touched() {
    let (out, created) = migrate_a_new_file_with("ORDERWATCH_AUDIT_GATHER_US", "10001");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("--audit-gather-us") && text.contains("0..=10000"),
        "{text}"
    );
    assert!(!created, "nothing was created");
    let (most, _) = migrate_a_new_file_with("ORDERWATCH_AUDIT_GATHER_US", "10000");
    assert!(
        most.status.success(),
        "{}",
        String::from_utf8_lossy(&most.stderr)
    );
}

#[test]
fn an_unknown_environment_is_refused_before_the_database_is_touched() {
    let (out, created) = migrate_a_new_file_with("ORDERWATCH_ENV", "prod");
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("ORDERWATCH_ENV must be development or production"),
        "{text}"
    );
    assert!(!created, "nothing was created");
}

#[test]
fn production_needs_its_own_keys_and_does_not_advertise_development_tools() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("prod.db").display());
    let serve = |audit_key: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_orderwatch"));
        c.env("DATABASE_URL", &url)
            .env("ORDERWATCH_ENV", "production")
            .env("ORDERWATCH_JWT_SECRET", SECRET)
            .env("ORDERWATCH_LISTEN", "127.0.0.1:0")
            .env("ORDERWATCH_LOG", "warn")
            .env("ORDERWATCH_CHECK_INTERVAL", "0")
            .arg("serve")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if audit_key {
            c.env("ORDERWATCH_AUDIT_KEY", AUDIT_KEY);
        }
        c
    };
    let refused = serve(false).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("production needs ORDERWATCH_AUDIT_KEY_FILE"));
    assert!(
        !dir.path().join("prod.db").exists(),
        "refused before the database was touched"
    );

    let mut server = ChildGuard(serve(true).spawn().unwrap());
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains("serving") && first.contains("(production)"),
        "{first}"
    );
    let rest: Vec<String> = lines.take(2).map(|l| l.unwrap()).collect();
    let all = format!("{first}\n{}", rest.join("\n"));
    assert!(
        !all.contains("GraphiQL") && !all.contains("seed --demo") && !all.contains("token --role"),
        "{all}"
    );
}

#[test]
fn each_subcommands_help_lists_its_own_settings_and_every_setting_is_still_accepted() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderwatch"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let token = help(&["token", "--help"]);
    assert!(token.contains("--jwt-secret") && token.contains("--database-url"));
    assert!(
        !token.contains("--listen") && !token.contains("--max-nesting"),
        "{token}"
    );
    let verify = help(&["audit", "verify", "--help"]);
    assert!(verify.contains("--audit-checkpoint-file") && !verify.contains("--jwt-secret"));
    let schema = help(&["schema", "--help"]);
    assert!(!schema.contains("--database-url"), "{schema}");
    let serve = help(&["serve", "--help"]);
    assert!(
        serve.contains("--listen")
            && serve.contains("--max-nesting")
            && serve.contains("--jwt-secret")
    );
    // A setting a subcommand does not list still parses there and reaches the settings: an out-of-range value is
    // refused by the same check as anywhere else.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderwatch"))
        .args(["schema", "--max-nesting", "100000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ORDERWATCH_MAX_NESTING must be 1 to"));
}
