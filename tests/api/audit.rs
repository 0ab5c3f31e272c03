//! The audit log (DPA 2018 s62): what is recorded, who may read it, and that tampering is evident.

use crate::helpers::*;
use orderwatch::auth::Role;
use serde_json::{json, Value};

use crate::helpers::audit_events as events;

#[tokio::test]
async fn a_read_is_recorded_with_the_fields_consulted_and_the_reason_given() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/A/1"))
        .await
        .ok();
    let res = app
        .client
        .post(format!("{}/graphql", app.url))
        .bearer_auth(app.token(Role::Police, "GMP"))
        .header("X-Orderwatch-Reason", "domestic call-out, incident GMP-123")
        .json(&json!({ "query": "{ order(reference: \"WMC/A/1\") { reference status protectedPersons { name contact } } }" }))
        .send()
        .await
        .unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(res.status().as_u16(), 200);
    let consults = events(
        &app,
        json!({ "actorAgency": "GMP", "operation": "CONSULT" }),
    )
    .await;
    assert_eq!(consults.len(), 1, "{consults:#?}");
    let e = &consults[0];
    assert_eq!(e["action"], "order");
    assert_eq!(e["requestId"], request_id.as_str());
    assert_eq!(
        e["actor"],
        json!({ "sub": "gmp-user", "agency": "GMP", "role": "POLICE" })
    );
    assert_eq!(
        e["fields"],
        json!([
            "protectedPersons.contact",
            "protectedPersons.name",
            "reference",
            "status"
        ])
    );
    assert_eq!(e["reason"], "domestic call-out, incident GMP-123");
    assert_eq!(e["objectIds"].as_array().unwrap().len(), 1);
    // The grant was recorded as a collection, by the court, in its own transaction.
    let collected = events(
        &app,
        json!({ "operation": "COLLECT", "actorAgency": "WMC" }),
    )
    .await;
    assert_eq!(collected.len(), 1);
    assert_eq!(collected[0]["objectIds"], e["objectIds"], "the same order");
    // A search by name is recorded too (the name itself is not).
    let q = "{ orders(filter: { subjectName: \"Sam Subject\" }, reason: \"checking a caller's account\") { edges { node { reference } } } }";
    app.gql(&app.token(Role::Police, "MET"), q, json!({}))
        .await
        .ok();
    let search = events(
        &app,
        json!({ "actorAgency": "MET", "operation": "CONSULT" }),
    )
    .await;
    assert_eq!(search[0]["action"], "orders");
    assert_eq!(search[0]["reason"], "checking a caller's account");
}

#[tokio::test]
async fn refusals_and_bad_tokens_are_recorded() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/D/1"))
        .await
        .ok();
    let report = "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/D/1\", occurredAt: $at, description: \"d\", externalRef: \"X\" }) { id } }";
    app.gql(
        &app.token(Role::Court, "WMC"),
        report,
        json!({ "at": app.now().to_rfc3339() }),
    )
    .await
    .err("FORBIDDEN");
    let denied = events(&app, json!({ "operation": "DENIED" })).await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        (denied[0]["action"].as_str(), denied[0]["outcome"].as_str()),
        (Some("reportBreach"), Some("FORBIDDEN"))
    );
    assert_eq!(denied[0]["actor"]["role"], "COURT");

    let bad = app
        .post_raw(Some("not-a-token"), json!({ "query": "{ me { sub } }" }))
        .await;
    assert_eq!(bad.status().as_u16(), 401);
    let failures = events(&app, json!({ "operation": "AUTH_FAILURE" })).await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["actor"]["sub"], "unknown");
    assert!(
        !failures[0].to_string().contains("not-a-token"),
        "the token is never recorded"
    );
}

#[tokio::test]
async fn an_alert_delivered_to_an_advocate_is_recorded_as_a_disclosure_to_that_service() {
    let app = TestApp::spawn().await.with_agencies().await;
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/S/1"))
        .await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    app.gql(&met, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/S/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person }))
        .await
        .ok();
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after(
        "a",
        &json!(orderwatch::service::page::encode_cursor("alert", "0")),
    )
    .await;
    let at = app.now().to_rfc3339();
    app.gql(&met, "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/S/1\", occurredAt: $at, description: \"d\", externalRef: \"X\" }) { id } }", json!({ "at": at }))
        .await
        .ok();
    let alert = ws.next_alert("a").await;
    ws.close().await;
    let disclosures = events(&app, json!({ "operation": "DISCLOSE" })).await;
    let delivered: Vec<&Value> = disclosures
        .iter()
        .filter(|e| e["action"] == "alerts")
        .collect();
    assert_eq!(delivered.len(), 1, "{disclosures:#?}");
    assert_eq!(delivered[0]["recipient"], "ADV-A");
    assert_eq!(delivered[0]["objectIds"][0], alert["id"]);
    // Recording the consent was itself a disclosure decision, naming the service.
    assert!(disclosures
        .iter()
        .any(|e| e["action"] == "shareOrderWithAdvocacy" && e["recipient"] == "ADV-A"));
}

#[tokio::test]
async fn only_auditors_read_the_log_and_their_reads_are_recorded() {
    let app = TestApp::spawn().await.with_agencies().await;
    for (role, agency) in [
        (Role::Police, "MET"),
        (Role::Court, "WMC"),
        (Role::Admin, "OPS"),
        (Role::Advocate, "ADV-A"),
    ] {
        app.gql(&app.token(role, agency), AUDIT_EVENTS, json!({}))
            .await
            .err("FORBIDDEN");
    }
    events(&app, json!({})).await;
    let reads = events(
        &app,
        json!({ "actorAgency": "DPO", "operation": "CONSULT" }),
    )
    .await;
    assert!(
        !reads.is_empty()
            && reads
                .iter()
                .all(|e| e["action"] == "auditEvents" && e["objectType"] == "audit_event")
    );
}

#[tokio::test]
async fn no_audit_entry_holds_a_name_contact_detail_narrative_or_token() {
    let app = TestApp::spawn().await.with_agencies().await;
    let court = app.token(Role::Court, "WMC");
    let r = app.grant(&court, spo_input(&app, "WMC/P/1")).await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    app.gql(&met, "{ orders(filter: { subjectName: \"Sam Subject\" }) { edges { node { protectedPersons { name contact } } } } }", json!({})).await.ok();
    app.gql(&met, "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/P/1\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }", json!({ "p": person })).await.ok();
    let at = app.now().to_rfc3339();
    app.gql(&met, "mutation($at: DateTime!) { reportBreach(input: { reference: \"WMC/P/1\", occurredAt: $at, description: \"Followed Pat home\", externalRef: \"X\" }) { id } }", json!({ "at": at })).await.ok();
    app.gql(&met, "mutation($at: DateTime!) { recordNotification(input: { reference: \"WMC/P/1\", kind: HOME_ADDRESS, notifiedAt: $at, changedOn: \"2026-01-01\", details: \"1 Secret Lane\" }) { reference } }", json!({ "at": at })).await;
    let all = serde_json::to_string(&events(&app, json!({})).await).unwrap();
    for secret in [
        "Sam Subject",
        "Sammy",
        "Pat Protected",
        "07700",
        "Followed Pat",
        "Secret Lane",
        &met[..40],
        &court[..40],
    ] {
        assert!(!all.contains(secret), "the audit log holds {secret:?}");
    }
}

#[tokio::test]
async fn the_log_is_append_only_and_any_edit_or_deletion_is_found_by_audit_verify() {
    let app = TestApp::spawn().await.with_agencies().await;
    for i in 0..3 {
        app.grant(
            &app.token(Role::Court, "WMC"),
            spo_input(&app, &format!("WMC/T/{i}")),
        )
        .await
        .ok();
    }
    let verify = || app.cli().args(["audit", "verify"]).output().unwrap();
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("audit log intact"));

    // Through its normal connection, nothing can change or remove an entry.
    let update = raw_sql(
        &app,
        &["UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 2"],
    );
    assert!(update.unwrap_err().contains("append-only"));
    assert!(raw_sql(&app, &["DELETE FROM audit_events WHERE seq = 2"])
        .unwrap_err()
        .contains("append-only"));

    // Someone who can switch the guard off edits an entry: verify finds it and fails.
    let (off, on) = if on_postgres() {
        (
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change",
        )
    } else {
        ("DROP TRIGGER audit_events_no_update", "SELECT 1")
    };
    raw_sql(
        &app,
        &[
            off,
            "UPDATE audit_events SET actor_sub = 'someone-else' WHERE seq = 2",
            on,
        ],
    )
    .unwrap();
    let broken = verify();
    assert_eq!(broken.status.code(), Some(2));
    let text = String::from_utf8_lossy(&broken.stdout).to_string();
    assert!(
        text.contains("BROKEN at event 2") && text.contains("edited"),
        "{text}"
    );
}

#[tokio::test]
async fn a_deleted_entry_breaks_the_chain_at_the_next_one() {
    let app = TestApp::spawn().await.with_agencies().await;
    for i in 0..3 {
        app.grant(
            &app.token(Role::Court, "WMC"),
            spo_input(&app, &format!("WMC/T/{i}")),
        )
        .await
        .ok();
    }
    let off = if on_postgres() {
        "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"
    } else {
        "DROP TRIGGER audit_events_no_delete"
    };
    raw_sql(&app, &[off, "DELETE FROM audit_events WHERE seq = 3"]).unwrap();
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        text.contains("BROKEN at event 4") && text.contains("removed"),
        "{text}"
    );
}

/// Without a gather window (the default) and with one (`ORDERWATCH_AUDIT_GATHER_US`), where batches wait for
/// reads arriving together.
#[tokio::test]
async fn entries_written_together_by_group_commit_keep_an_intact_chain() {
    for gather_us in [0, 2_000] {
        group_committed_reads_keep_an_intact_chain(gather_us).await;
    }
}

async fn group_committed_reads_keep_an_intact_chain(gather_us: u32) {
    let app = TestApp::spawn_with(|s| s.audit_gather_us = gather_us)
        .await
        .with_agencies()
        .await;
    assert_eq!(
        app.services.audit.gather_window(),
        std::time::Duration::from_micros(gather_us.into()),
        "the server's writer waits as the setting says"
    );
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/G/1"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let reads = (0..60).map(|_| {
        app.gql(
            &met,
            "{ order(reference: \"WMC/G/1\") { status } }",
            json!({}),
        )
    });
    for r in futures_util::future::join_all(reads).await {
        r.ok();
    }
    assert_eq!(
        events(
            &app,
            json!({ "operation": "CONSULT", "actorAgency": "MET" })
        )
        .await
        .len(),
        60
    );
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn a_large_batch_is_stored_in_chain_order_with_every_value_as_written() {
    use orderwatch::domain::audit::{AuditEntry, AuditOperation};
    let app = TestApp::spawn().await;
    // More entries than one multi-row statement held before, with empty lists and absent values mixed in, so the
    // order, the nulls and the empty strings all have to survive the one-statement insert.
    let written: Vec<AuditEntry> = (0..1203)
        .map(|i| AuditEntry {
            id: format!("batch-{i:05}"),
            at: chrono::DateTime::from_timestamp(1_790_000_000 + (1203 - i), 123_456_000).unwrap(),
            request_id: format!("request-{}", i % 7),
            actor_sub: format!("advocate-{}", i % 3),
            actor_agency: "SAFE".into(),
            actor_role: "ADVOCATE".into(),
            operation: if i % 2 == 0 {
                AuditOperation::Disclose
            } else {
                AuditOperation::Consult
            },
            action: "alerts".into(),
            object_type: "alert".into(),
            object_ids: (0..i % 3).map(|k| format!("obj-{i}-{k}")).collect(),
            fields: if i % 4 == 0 {
                vec![]
            } else {
                vec!["kind".into(), "createdAt".into()]
            },
            recipient: (i % 5 == 0).then(|| "SAFE".into()),
            outcome: "OK".into(),
            reason: (i % 3 == 0).then(|| format!("reason {i}")),
            correlation_id: (i % 4 == 1).then(|| format!("client-{i}")),
        })
        .collect();
    let expected = written.clone();
    let read = app
        .db()
        .await
        .run(move |c: &mut orderwatch::db::DbConnection| {
            orderwatch::db::write_transaction(c, |c| orderwatch::db::audit::append(c, &written))?;
            let verified = orderwatch::db::audit::verify(c, &[])?;
            let page = orderwatch::db::audit::page(c, &Default::default(), 0, 5000)?;
            Ok((verified, page))
        })
        .await
        .unwrap();
    assert_eq!(
        read.0,
        orderwatch::db::audit::Verified::Intact { events: 1203 }
    );
    let entries: Vec<AuditEntry> = read.1.into_iter().map(|(_, e)| e).collect();
    assert_eq!(entries, expected);
}

/// The audit writer chains a batch from the newest hash it last knew, and (on PostgreSQL) writes it in one statement
/// only if that is still the newest. When a change appended meanwhile (or another replica's writer), the batch is
/// chained again after it: the log stays one chain, in the order written.
#[tokio::test]
async fn a_batch_chained_from_a_head_another_appender_moved_is_chained_again_after_it() {
    use orderwatch::db::{audit, write_transaction, DbConnection};
    let app = TestApp::spawn().await;
    let entry = |i: usize| read_entry(&format!("head-{i}"));
    let (known, moved, newest, verified, ids, how) = app
        .db()
        .await
        .run(move |c: &mut DbConnection| {
            let mut head = None;
            let first = audit::append_batch(c, &mut head, &[&entry(0), &entry(1)])?;
            let known = head.clone();
            // A change appends in its own transaction: the writer's head is no longer the newest.
            write_transaction(c, |c| audit::append(c, [&entry(2)]))?;
            let second = audit::append_batch(c, &mut head, &[&entry(3), &entry(4)])?;
            let newest = audit::head(c, None)?.1;
            let verified = audit::verify(c, &[])?;
            let ids: Vec<String> = audit::page(c, &Default::default(), 0, 100)?
                .into_iter()
                .map(|(_, e)| e.id)
                .collect();
            Ok((known, head, newest, verified, ids, (first, second)))
        })
        .await
        .unwrap();
    if on_postgres() {
        assert_eq!(
            how,
            (
                audit::Appended::OneStatement { rechained: 0 },
                audit::Appended::OneStatement { rechained: 1 }
            ),
            "each batch in one statement, the second chained again after the change"
        );
    } else {
        let in_transaction = audit::Appended::Transaction { rechained: 0 };
        assert_eq!(how, (in_transaction, in_transaction));
    }
    assert!(
        matches!(known, Some(Some(_))),
        "the writer knows the head it wrote"
    );
    assert_eq!(
        moved,
        Some(Some(newest)),
        "and the head after its next batch"
    );
    assert_eq!(verified, audit::Verified::Intact { events: 5 });
    assert_eq!(ids, ["head-0", "head-1", "head-2", "head-3", "head-4"]);
}

/// Appenders on connections of their own, all at once, as the audit writer and the changes of several server
/// processes are: one-statement batches from a head each appender keeps, and appends in a change's transaction. Each
/// waits for the append lock and then reads the newest hash the one before it wrote (on PostgreSQL through
/// `orderwatch_audit_newest`, whose snapshot is taken after the lock), so the log stays one chain.
#[tokio::test]
async fn appenders_on_several_connections_at_once_keep_one_chain() {
    use orderwatch::db::{audit, write_transaction};
    const APPENDERS: usize = 4;
    const ROUNDS: usize = 40;
    let app = TestApp::spawn().await;
    let db = app.db().await;
    let start = std::sync::Barrier::new(APPENDERS);
    let in_one_statement = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..APPENDERS {
            let (db, start, in_one_statement) = (&db, &start, &in_one_statement);
            s.spawn(move || {
                let _keys = db.audit_key_scope();
                let mut c = db.dedicated_connection().unwrap();
                let mut head = None;
                start.wait();
                for r in 0..ROUNDS {
                    let (a, b) = (
                        read_entry(&format!("race-{t}-{r}-a")),
                        read_entry(&format!("race-{t}-{r}-b")),
                    );
                    if t % 2 == 0 || r % 4 == 0 {
                        let how = audit::append_batch(&mut c, &mut head, &[&a, &b]).unwrap();
                        if matches!(how, audit::Appended::OneStatement { .. }) {
                            in_one_statement.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    } else {
                        write_transaction(&mut c, |c| audit::append(c, [&a, &b])).unwrap();
                    }
                }
            });
        }
    });
    let verified = db.run(|c| audit::verify(c, &[])).await.unwrap();
    assert_eq!(
        verified,
        audit::Verified::Intact {
            events: (APPENDERS * ROUNDS * 2) as u64
        }
    );
    if on_postgres() {
        assert!(
            in_one_statement.into_inner() > 0,
            "no batch was written by the one-statement append under test"
        );
    }
}

/// The audit chain's appends read the newest hash after taking the append lock, which sees the append the lock
/// waited for only at READ COMMITTED: the server's sessions run at it whatever the database's default.
#[tokio::test]
async fn the_servers_sessions_read_committed_whatever_the_databases_default() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    let name = app.database_url.rsplit('/').next().unwrap().to_string();
    raw_sql(
        &app,
        &[&format!(
            "ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'"
        )],
    )
    .unwrap();
    // A new server on the database: its connections start at the database's new default.
    let replica = app.replica_with(|_| {}).await;
    #[derive(diesel::QueryableByName)]
    struct Level {
        #[diesel(sql_type = diesel::sql_types::Text)]
        transaction_isolation: String,
    }
    let level = replica
        .db()
        .await
        .run(|c: &mut orderwatch::db::DbConnection| {
            let orderwatch::db::DbConnection::Pg(c) = c else {
                unreachable!("on PostgreSQL")
            };
            use diesel::RunQueryDsl;
            Ok(diesel::sql_query("SHOW transaction_isolation").get_result::<Level>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(level.transaction_isolation, "read committed");
}

#[tokio::test]
async fn a_read_whose_audit_record_cannot_be_written_fails_and_discloses_nothing() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/F/1"))
        .await
        .ok();
    // The audit store refuses consultation entries (a full disk, a lost server), and nothing else.
    refuse_audit_entries(&app, "CONSULT");
    let query = "{ order(reference: \"WMC/F/1\") { reference status protectedPersons { name } } }";
    let police = app.token(Role::Police, "GMP");
    let refused = app.gql(&police, query, json!({})).await;
    assert_eq!(
        refused.codes(),
        vec!["UNAVAILABLE"],
        "{:#?}",
        refused.errors
    );
    let text = format!("{} {}", refused.data, json!(refused.errors));
    assert!(
        !text.contains("WMC/F/1") && !text.contains("audit store unavailable"),
        "a read that could not be recorded returned data or internal text: {text}"
    );

    // Once the store accepts entries again, the same read works and is recorded (the writer recovers by itself).
    accept_audit_entries(&app);
    let answered = app.gql(&police, query, json!({})).await;
    assert_eq!(answered.ok()["order"]["reference"], "WMC/F/1");
    let consults = events(
        &app,
        json!({ "actorAgency": "GMP", "operation": "CONSULT" }),
    )
    .await;
    assert_eq!(
        consults.len(),
        1,
        "only the answered read is recorded: {consults:#?}"
    );
}

/// Operators see how long reads wait for a database connection and for their audit record to commit (the two
/// waits a lookup has besides its own statements); the histograms count every wait.
#[tokio::test]
async fn the_waits_for_a_connection_and_for_the_audit_record_are_on_metrics() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/M/1"))
        .await
        .ok();
    let counts = |text: &str| {
        (
            read_counter(text, "orderwatch_db_wait_seconds_count"),
            read_counter(text, "orderwatch_audit_wait_seconds_count"),
        )
    };
    let before = app.get("/metrics").await.text().await.unwrap();
    let (db_before, audit_before) = counts(&before);
    let police = app.token(Role::Police, "MET");
    // A history: the order and its parts are read on the worker's own connection, which waits for no pooled one
    // (`db::reader`); its versions are read on the pool.
    app.gql(
        &police,
        "{ order(reference: \"WMC/M/1\") { versions { version } } }",
        json!({}),
    )
    .await
    .ok();
    let after = app.get("/metrics").await.text().await.unwrap();
    let (db_after, audit_after) = counts(&after);
    // Counters are process-wide and other tests run meanwhile: this read adds at least one of each.
    assert!(db_after > db_before, "db wait {db_before} -> {db_after}");
    assert!(
        audit_after > audit_before,
        "audit wait {audit_before} -> {audit_after}"
    );
    for name in [
        "orderwatch_db_wait_seconds",
        "orderwatch_audit_wait_seconds",
    ] {
        assert!(
            after.contains(&format!("# TYPE {name} histogram")),
            "{name}"
        );
        assert!(
            after.contains(&format!("{name}_bucket{{le=\"+Inf\"}} ")),
            "{name}"
        );
    }
}
