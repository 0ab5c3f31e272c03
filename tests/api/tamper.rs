//! Someone who can write to the database tampers with the audit log, one way per test case: `audit verify` finds
//! each, against the keyed chain and the signed checkpoint made before; the server will not start on a log whose
//! append-only triggers were dropped, and `/readyz` reports them missing.

use crate::helpers::*;
use diesel::prelude::*;
use orderwatch::auth::Role;
use orderwatch::db::audit::Verified;
use orderwatch::domain::audit::{chain_hash, AuditEntry, AuditOperation};
use serde_json::json;
use std::path::PathBuf;

/// A log of at least 30 entries, a checkpoint of it in a file of its own, and the triggers switched off as
/// someone with database access would.
async fn tampered_log() -> (TestApp, tempfile::TempDir, PathBuf, Vec<i64>) {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let police = app.token(Role::Police, "MET");
    for i in 0..10 {
        app.grant(&court, spo_input(&app, &format!("WMC/TA/{i}")))
            .await
            .ok();
        for _ in 0..2 {
            app.gql(
                &police,
                &format!("{{ order(reference: \"WMC/TA/{i}\") {{ reference }} }}"),
                json!({}),
            )
            .await
            .ok();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("checkpoints");
    app.services.audit_checkpoint(Some(&file)).await.unwrap();
    assert_eq!(verify(&app, &file).await, None, "intact before");
    let off: &[&str] = if on_postgres() {
        &["ALTER TABLE audit_events DISABLE TRIGGER USER"]
    } else {
        &[
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ]
    };
    raw_sql(&app, off).unwrap();
    let seqs = read_seqs(&app);
    assert!(seqs.len() >= 30, "{} entries", seqs.len());
    (app, dir, file, seqs)
}

/// The rows `sql` reads from the test database, as someone with database access reads them.
fn rows<T>(app: &TestApp, sql: &str) -> Vec<T>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    match target.backend {
        orderwatch::db::Backend::Sqlite => diesel::sql_query(sql)
            .load(&mut diesel::SqliteConnection::establish(&target.connect).unwrap())
            .unwrap(),
        orderwatch::db::Backend::Postgres => diesel::sql_query(sql)
            .load(&mut diesel::PgConnection::establish(&target.connect).unwrap())
            .unwrap(),
    }
}

fn read_seqs(app: &TestApp) -> Vec<i64> {
    #[derive(QueryableByName)]
    struct Seq {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
    }
    rows::<Seq>(app, "SELECT seq FROM audit_events ORDER BY seq")
        .into_iter()
        .map(|r| r.seq)
        .collect()
}

/// The first problem `audit verify` finds: `(seq, problem)`, or `None` when intact.
async fn verify(app: &TestApp, file: &std::path::Path) -> Option<(i64, String)> {
    match app.services.verify_audit_with(Some(file)).await.unwrap() {
        Verified::Intact { .. } => None,
        Verified::Broken { seq, problem, .. } => Some((seq, problem)),
    }
}

async fn found(app: &TestApp, file: &std::path::Path, seq: i64, words: &str) {
    let (at, problem) = verify(app, file).await.expect("the tampering is found");
    assert_eq!(at, seq, "{problem}");
    assert!(problem.contains(words), "{problem}");
}

#[tokio::test]
async fn an_edited_field_is_found() {
    let (app, _dir, file, seqs) = tampered_log().await;
    let mid = seqs[seqs.len() / 2];
    raw_sql(
        &app,
        &[&format!(
            "UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = {mid}"
        )],
    )
    .unwrap();
    found(&app, &file, mid, "edited").await;
}

#[tokio::test]
async fn a_deleted_first_or_middle_entry_is_found_at_the_next() {
    for at in ["first", "middle"] {
        let (app, _dir, file, seqs) = tampered_log().await;
        let i = if at == "first" { 0 } else { seqs.len() / 2 };
        raw_sql(
            &app,
            &[&format!("DELETE FROM audit_events WHERE seq = {}", seqs[i])],
        )
        .unwrap();
        found(&app, &file, seqs[i + 1], "removed").await;
    }
}

#[tokio::test]
async fn deleting_the_last_entry_or_the_last_twenty_is_found_by_the_checkpoint() {
    for n in [1usize, 20] {
        let (app, _dir, file, seqs) = tampered_log().await;
        let from = seqs[seqs.len() - n];
        // Entries written after the checkpoint are deleted too, so the chain in the database is intact.
        raw_sql(
            &app,
            &[&format!("DELETE FROM audit_events WHERE seq >= {from}")],
        )
        .unwrap();
        let last = *seqs.last().unwrap();
        found(&app, &file, last, "deleted from the end").await;
    }
}

#[tokio::test]
async fn reordered_entries_are_found() {
    let (app, _dir, file, seqs) = tampered_log().await;
    let (a, b) = (seqs[10], seqs[11]);
    raw_sql(
        &app,
        &[
            &format!("UPDATE audit_events SET seq = -1 WHERE seq = {a}"),
            &format!("UPDATE audit_events SET seq = {a} WHERE seq = {b}"),
            &format!("UPDATE audit_events SET seq = {b} WHERE seq = -1"),
        ],
    )
    .unwrap();
    found(&app, &file, a, "removed, inserted or reordered").await;
}

#[tokio::test]
async fn an_emptied_log_is_found_by_the_checkpoint() {
    let (app, _dir, file, seqs) = tampered_log().await;
    let empty = if on_postgres() {
        "TRUNCATE audit_events"
    } else {
        "DELETE FROM audit_events"
    };
    raw_sql(&app, &[empty]).unwrap();
    found(&app, &file, *seqs.last().unwrap(), "emptied").await;
}

/// The entries of the log from `seq` on, as a tamperer reads them.
fn entries_from(app: &TestApp, seq: i64) -> Vec<(i64, AuditEntry)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        seq: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        id: String,
        #[diesel(sql_type = diesel::sql_types::Timestamp)]
        at: chrono::NaiveDateTime,
        #[diesel(sql_type = diesel::sql_types::Text)]
        request_id: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor_sub: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor_agency: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor_role: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        operation: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        object_type: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        object_ids: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        fields: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        recipient: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Text)]
        outcome: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        reason: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        correlation_id: Option<String>,
    }
    let found: Vec<Row> = rows(
        app,
        &format!("SELECT * FROM audit_events WHERE seq >= {seq} ORDER BY seq"),
    );
    let split = |s: &str| {
        if s.is_empty() {
            vec![]
        } else {
            s.split(',').map(str::to_string).collect()
        }
    };
    found
        .into_iter()
        .map(|r| {
            let e = AuditEntry {
                id: r.id,
                at: r.at.and_utc(),
                request_id: r.request_id,
                actor_sub: r.actor_sub,
                actor_agency: r.actor_agency,
                actor_role: r.actor_role,
                operation: r.operation.parse::<AuditOperation>().unwrap(),
                action: r.action,
                object_type: r.object_type,
                object_ids: split(&r.object_ids),
                fields: split(&r.fields),
                recipient: r.recipient,
                outcome: r.outcome,
                reason: r.reason,
                correlation_id: r.correlation_id,
            };
            (r.seq, e)
        })
        .collect()
}

/// The hash of the entry before `seq`.
fn hash_before(app: &TestApp, seq: i64) -> String {
    #[derive(QueryableByName)]
    struct H {
        #[diesel(sql_type = diesel::sql_types::Text)]
        prev_hash: String,
    }
    rows::<H>(
        app,
        &format!("SELECT prev_hash FROM audit_events WHERE seq = {seq}"),
    )
    .remove(0)
    .prev_hash
}

#[tokio::test]
async fn an_edit_with_the_chain_rehashed_to_the_end_is_found() {
    for key_id in ["", "test-1"] {
        let (app, _dir, file, seqs) = tampered_log().await;
        let mid = seqs[seqs.len() / 2];
        // Without the key, the tamperer recomputes the links as the unkeyed chain does, keeping the key id or not.
        let mut prev = hash_before(&app, mid);
        let mut statements = vec![];
        for (seq, mut e) in entries_from(&app, mid) {
            if seq == mid {
                e.actor_sub = "someone-else".into();
            }
            let hash = chain_hash(&prev, &e);
            statements.push(format!(
                "UPDATE audit_events SET actor_sub = '{}', prev_hash = '{prev}', hash = '{hash}', key_id = '{key_id}' WHERE seq = {seq}",
                e.actor_sub
            ));
            prev = hash;
        }
        let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
        raw_sql(&app, &statements).unwrap();
        let expected = if key_id.is_empty() {
            "unkeyed after keyed"
        } else {
            "edited"
        };
        found(&app, &file, mid, expected).await;
    }
}

#[tokio::test]
async fn a_forged_entry_appended_with_a_valid_link_is_found() {
    for key_id in ["", "test-1"] {
        let (app, _dir, file, seqs) = tampered_log().await;
        let last = *seqs.last().unwrap();
        // A copy of the last entry, changed, that links to it.
        let (_, mut e) = entries_from(&app, last).pop().unwrap();
        #[derive(QueryableByName)]
        struct H {
            #[diesel(sql_type = diesel::sql_types::Text)]
            hash: String,
        }
        let head = rows::<H>(
            &app,
            &format!("SELECT hash FROM audit_events WHERE seq = {last}"),
        )
        .remove(0);
        e.id = "forged-entry".into();
        e.actor_sub = "nobody".into();
        let hash = chain_hash(&head.hash, &e);
        raw_sql(
            &app,
            &[&format!(
                "INSERT INTO audit_events (id, at, request_id, actor_sub, actor_agency, actor_role, operation, action, object_type, object_ids, fields, recipient, outcome, reason, prev_hash, hash, key_id) \
                 VALUES ('forged-entry', '{}', '{}', 'nobody', '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL, '{}', NULL, '{}', '{hash}', '{key_id}')",
                e.at.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f"), e.request_id, e.actor_agency, e.actor_role,
                e.operation.as_str(), e.action, e.object_type, e.object_ids.join(","), e.fields.join(","), e.outcome, head.hash
            )],
        )
        .unwrap();
        let forged = *read_seqs(&app).last().unwrap();
        let expected = if key_id.is_empty() {
            "unkeyed after keyed"
        } else {
            "edited"
        };
        found(&app, &file, forged, expected).await;
    }
}

#[tokio::test]
async fn dropped_triggers_keep_the_server_from_starting_and_readyz_reports_them() {
    let app = TestApp::spawn().await.with_agencies().await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    let off: &[&str] = if on_postgres() {
        &["ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"]
    } else {
        &["DROP TRIGGER audit_events_no_delete"]
    };
    raw_sql(&app, off).unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["audit"],
        "append-only protection missing"
    );
    let refused = start_refused(&app, |_| {}).await;
    assert!(
        refused.contains("append-only triggers") && refused.contains("audit protect"),
        "{refused}"
    );

    app.services.protect_audit().await.unwrap();
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    assert!(app.services.audit_unprotected().await.unwrap().is_empty());
}

/// Checkpoints made while the server runs count only the entries since the one before; the count is the full one.
#[tokio::test]
async fn a_checkpoint_counted_from_an_earlier_one_counts_every_entry() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    app.grant(&court, spo_input(&app, "WMC/HC/1")).await.ok();
    let earlier = app.services.audit_checkpoint(None).await.unwrap();
    app.grant(&court, spo_input(&app, "WMC/HC/2")).await.ok();
    let since = (earlier.seq, earlier.count);
    let (full, counted) = app
        .db()
        .await
        .run(move |c| {
            Ok((
                orderwatch::db::audit::head(c, None)?,
                orderwatch::db::audit::head(c, Some(since))?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(full, counted);
    assert!(full.2 > earlier.count);
}

/// On PostgreSQL with `ORDERWATCH_AUDIT_TABLE_OWNER`, the audit table must be owned by that role and the server
/// must run as another: otherwise `/readyz` answers 503 and a server will not start.
#[tokio::test]
async fn the_audit_table_must_be_owned_by_the_configured_role_and_not_the_servers() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await.with_agencies().await;
    // Roles are the cluster's, shared by the suite's databases: created once, never dropped.
    let _ = raw_sql(&app, &["CREATE ROLE ow_audit_owner NOLOGIN"]);
    raw_sql(&app, &["ALTER TABLE audit_events OWNER TO ow_audit_owner"]).unwrap();
    let owned = app
        .replica_with(|s| s.audit_table_owner = Some("ow_audit_owner".into()))
        .await;
    assert_eq!(owned.get("/readyz").await.status().as_u16(), 200);
    assert!(owned.services.audit_unprotected().await.unwrap().is_empty());

    // Owned by the role the server runs as: refused.
    raw_sql(&app, &["ALTER TABLE audit_events OWNER TO CURRENT_USER"]).unwrap();
    let res = owned.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 503);
    let problems = owned.services.audit_unprotected().await.unwrap();
    assert_eq!(
        problems,
        vec![
            "audit_events is not owned by ow_audit_owner (ORDERWATCH_AUDIT_TABLE_OWNER)"
                .to_string()
        ]
    );
    let refused = start_refused(&app, |s| s.audit_table_owner = Some("postgres".into())).await;
    assert!(refused.contains("the server runs as postgres"), "{refused}");
}

/// Rewriting the whole chain without the key leaves the checkpoints as evidence, so a tamperer would delete them: a
/// checkpoint file with no checkpoint, under a log that is not empty, is itself reported.
#[tokio::test]
async fn a_deleted_checkpoint_file_is_found() {
    let (app, _dir, file, _) = tampered_log().await;
    std::fs::remove_file(&file).unwrap();
    let (at, problem) = verify(&app, &file).await.expect("reported");
    assert_eq!(at, 0);
    assert!(problem.contains("holds no checkpoint"), "{problem}");
}

/// Entries deleted from the end while no server ran are found at the next start, before a new checkpoint could
/// endorse the cut log.
#[tokio::test]
async fn a_server_will_not_start_on_a_log_cut_short_since_its_last_checkpoint() {
    let (app, _dir, file, seqs) = tampered_log().await;
    let last = *seqs.last().unwrap();
    raw_sql(
        &app,
        &[&format!("DELETE FROM audit_events WHERE seq >= {last}")],
    )
    .unwrap();
    let protect: &[&str] = if on_postgres() {
        &["ALTER TABLE audit_events ENABLE TRIGGER USER"]
    } else {
        &[]
    };
    raw_sql(&app, protect).unwrap();
    app.services.protect_audit().await.unwrap();
    let refused = start_refused(&app, |s| s.audit_checkpoint_file = Some(file.clone())).await;
    assert!(
        refused.contains("does not match its last checkpoint") && refused.contains("is gone"),
        "{refused}"
    );
}

/// Why a new server on `app`'s database, with its settings adjusted by `tune`, refuses to start.
async fn start_refused(
    app: &TestApp,
    tune: impl FnOnce(&mut orderwatch::config::Settings),
) -> String {
    let mut settings = orderwatch::config::Settings::for_database(&app.database_url);
    settings.listen = "127.0.0.1:0".into();
    settings.jwt_secret = Some(SECRET.into());
    settings.audit_key = Some(AUDIT_KEY.into());
    settings.check_interval = 0;
    tune(&mut settings);
    orderwatch::startup::Application::build(
        &settings,
        std::sync::Arc::new(orderwatch::service::SystemClock),
    )
    .await
    .err()
    .expect("the server does not start")
    .to_string()
}
