//! Alerts over a real websocket (graphql-transport-ws): live delivery, resume by cursor with no gap or duplicate,
//! who receives what, revocation, close codes, and delivery across replicas.

use crate::helpers::*;
use chrono::Duration;
use orderwatch::auth::Role;
use orderwatch::service::page::encode_cursor;
use serde_json::{json, Value};

const REPORT: &str = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id outcome } }";
const SHARE: &str = "mutation($r: String!, $p: ID!, $a: String!) { shareOrderWithAdvocacy(reference: $r, protectedPersonId: $p, advocacyAgency: $a) { id revokedAt } }";
const REVOKE: &str = "mutation($r: String!, $p: ID!, $a: String!) { revokeOrderShare(reference: $r, protectedPersonId: $p, advocacyAgency: $a) { id revokedAt } }";

/// The cursor before every alert: replays everything the caller may see.
pub(crate) fn from_start() -> Value {
    json!(encode_cursor("alert", "0"))
}

/// Grants an SPO (WMC, managed by MET) and shares its protected person with `advocacy`; returns the person's id.
pub(crate) async fn shared_order(app: &TestApp, reference: &str, advocacy: &str) -> String {
    let r = app
        .grant(&app.token(Role::Court, "WMC"), spo_input(app, reference))
        .await;
    let person = r.ok()["grantOrder"]["protectedPersons"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    share(app, reference, &person, advocacy).await;
    person
}

async fn share(app: &TestApp, reference: &str, person: &str, advocacy: &str) {
    app.gql(
        &app.token(Role::Police, "MET"),
        SHARE,
        json!({ "r": reference, "p": person, "a": advocacy }),
    )
    .await
    .ok();
}

/// Reports a breach as MET; returns the breach id.
pub(crate) async fn report(app: &TestApp, reference: &str, external_ref: &str) -> String {
    let input = json!({ "reference": reference, "occurredAt": app.earlier_today(Duration::minutes(10)).to_rfc3339(),
        "description": "Subject seen outside the protected person's home", "externalRef": external_ref });
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            REPORT,
            json!({ "i": input }),
        )
        .await;
    r.ok()["reportBreach"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_advocate_receives_a_breach_reported_over_http_on_its_websocket() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/L/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after("s1", &from_start()).await;
    let breach = report(&app, "WMC/L/1", "INC-1").await;
    let alert = ws.next_alert("s1").await;
    assert_eq!(alert["kind"], "BREACH_REPORTED");
    assert_eq!(alert["severity"], "URGENT");
    assert_eq!(alert["breachId"], breach.as_str());
    assert_eq!(alert["orderReference"], "WMC/L/1");
    assert_eq!(alert["order"]["reference"], "WMC/L/1");
    assert_eq!(alert["late"], false);
    ws.close().await;
}

#[tokio::test]
async fn a_subscriber_resuming_from_its_cursor_gets_exactly_what_it_missed_in_order() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/R/1", "ADV-A").await;
    let adv = app.token(Role::Advocate, "ADV-A");
    let mut ws = app.ws().await;
    ws.init(&adv).await;
    ws.alerts_after("a", &from_start()).await;
    report(&app, "WMC/R/1", "INC-1").await;
    let seen = ws.next_alert("a").await;
    ws.close().await;

    let missed = [
        report(&app, "WMC/R/1", "INC-2").await,
        report(&app, "WMC/R/1", "INC-3").await,
        report(&app, "WMC/R/1", "INC-4").await,
    ];
    let mut ws = app.ws().await;
    ws.init(&adv).await;
    ws.alerts_after("b", &seen["cursor"]).await;
    for expected in &missed {
        assert_eq!(ws.next_alert("b").await["breachId"], expected.as_str());
    }
    // Live after the replay, with nothing repeated at the seam.
    let live = report(&app, "WMC/R/1", "INC-5").await;
    assert_eq!(ws.next_alert("b").await["breachId"], live.as_str());
    ws.close().await;
}

#[tokio::test]
async fn a_retried_report_makes_one_breach_and_one_alert() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/D/1", "ADV-A").await;
    let first = report(&app, "WMC/D/1", "INC-77").await;
    let before = app.snapshot().await;
    let again = report(&app, "WMC/D/1", "INC-77").await;
    assert_eq!(first, again);
    assert_eq!(app.snapshot().await, before, "the retry wrote something");
    let list = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ alerts(filter: { kinds: [BREACH_REPORTED] }) { edges { node { breachId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list.ok()["alerts"]["edges"],
        json!([{ "node": { "breachId": first } }])
    );
}

#[tokio::test]
async fn an_advocate_of_another_service_receives_nothing_of_an_order_not_shared_with_it() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/X/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-B")).await;
    ws.alerts_after("b", &from_start()).await;
    report(&app, "WMC/X/1", "INC-1").await;
    // A breach of an order shared with ADV-B follows; it must be the first thing ADV-B hears.
    shared_order(&app, "WMC/X/2", "ADV-B").await;
    let second = report(&app, "WMC/X/2", "INC-2").await;
    let alert = ws.next_alert("b").await;
    assert_eq!(alert["breachId"], second.as_str());
    assert_eq!(alert["orderReference"], "WMC/X/2");
    ws.close().await;
    let list = app
        .gql(
            &app.token(Role::Advocate, "ADV-B"),
            "{ alerts { edges { node { orderReference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list.ok()["alerts"]["edges"],
        json!([{ "node": { "orderReference": "WMC/X/2" } }])
    );
}

#[tokio::test]
async fn revoking_consent_stops_the_flow_at_once() {
    let app = TestApp::spawn().await.with_agencies().await;
    let person = shared_order(&app, "WMC/V/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after("a", &from_start()).await;
    report(&app, "WMC/V/1", "INC-1").await;
    assert_eq!(ws.next_alert("a").await["orderReference"], "WMC/V/1");
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            REVOKE,
            json!({ "r": "WMC/V/1", "p": person, "a": "ADV-A" }),
        )
        .await;
    assert!(r.ok()["revokeOrderShare"]["revokedAt"].is_string());
    report(&app, "WMC/V/1", "INC-2").await;
    shared_order(&app, "WMC/V/2", "ADV-A").await;
    let other = report(&app, "WMC/V/2", "INC-3").await;
    assert_eq!(
        ws.next_alert("a").await["breachId"],
        other.as_str(),
        "nothing of V/1 after revocation"
    );
    ws.close().await;
    // And the order itself is no longer visible.
    let o = app
        .gql(
            &app.token(Role::Advocate, "ADV-A"),
            "{ order(reference: \"WMC/V/1\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(o.ok()["order"], Value::Null);
}

/// A read loads only the parts its selection shows, but always those the access policy decides by: an advocacy
/// service sees an order shared with it, and only the person whose consent it holds, whatever it selects.
#[tokio::test]
async fn an_advocate_sees_a_shared_order_whatever_it_selects() {
    let app = TestApp::spawn().await.with_agencies().await;
    let person = shared_order(&app, "WMC/SEL/1", "ADV-A").await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/SEL/2"))
        .await
        .ok();
    let adv = app.token(Role::Advocate, "ADV-A");
    let bare = app
        .gql(
            &adv,
            "{ order(reference: \"WMC/SEL/1\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(bare.ok()["order"]["reference"], "WMC/SEL/1");
    let persons = app
        .gql(
            &adv,
            "{ order(reference: \"WMC/SEL/1\") { protectedPersons { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        persons.ok()["order"]["protectedPersons"],
        json!([{ "id": person }])
    );
    let page = app
        .gql(
            &adv,
            "{ orders(first: 5) { edges { node { reference } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        page.ok()["orders"]["edges"],
        json!([{ "node": { "reference": "WMC/SEL/1" } }])
    );
    let unshared = app
        .gql(
            &adv,
            "{ order(reference: \"WMC/SEL/2\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(unshared.ok()["order"], Value::Null);
}

#[tokio::test]
async fn police_receive_their_own_orders_alerts_and_advocates_the_kinds_meant_for_them() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/K/1", "ADV-A").await;
    let met = app.token(Role::Police, "MET");
    let serve = "mutation($at: DateTime!) { recordService(reference: \"WMC/K/1\", servedAt: $at, method: PERSONAL) { serviceStatus } }";
    app.gql(
        &app.token(Role::Police, "GMP"),
        serve,
        json!({ "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    app.gql(
        &app.token(Role::Court, "WMC"),
        "mutation { varyOrder(input: { reference: \"WMC/K/1\", conditions: [] }) { version } }",
        json!({}),
    )
    .await
    .ok();
    report(&app, "WMC/K/1", "INC-1").await;
    let kinds = |token: String| {
        let app = &app;
        async move {
            let r = app
                .gql(&token, "{ alerts { edges { node { kind } } } }", json!({}))
                .await;
            r.ok()["alerts"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["kind"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        kinds(met.clone()).await,
        ["ORDER_VARIED", "BREACH_REPORTED"]
    );
    assert_eq!(
        kinds(app.token(Role::Advocate, "ADV-A")).await,
        ["ORDER_SERVED", "ORDER_VARIED", "BREACH_REPORTED"]
    );
    assert_eq!(
        kinds(app.token(Role::Police, "GMP")).await,
        Vec::<String>::new(),
        "another force's orders"
    );
    app.gql(
        &app.token(Role::Court, "WMC"),
        "{ alerts { edges { node { kind } } } }",
        json!({}),
    )
    .await
    .err("FORBIDDEN");
}

#[tokio::test]
async fn alerts_newest_first_page_backwards_from_the_cursor_with_the_same_filters() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/NF/1", "ADV-A").await;
    for i in 1..=5 {
        report(&app, "WMC/NF/1", &format!("NF-{i}")).await;
    }
    let adv = app.token(Role::Advocate, "ADV-A");
    let q = "query($after: String, $f: AlertFilter) { alerts(first: 2, after: $after, filter: $f, order: NEWEST_FIRST) {
        edges { node { id cursor breachId } } pageInfo { hasNextPage endCursor } } }";
    let oldest_first = app
        .gql(
            &adv,
            "{ alerts(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let mut expected: Vec<String> = oldest_first.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    expected.reverse();
    assert_eq!(expected.len(), 5);
    let (mut seen, mut after) = (vec![], Value::Null);
    loop {
        let r = app.gql(&adv, q, json!({ "after": after })).await;
        let page = &r.ok()["alerts"];
        seen.extend(
            page["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected, "every alert once, newest first");
    // Filters apply as they do oldest first: the acknowledged newest one is left out.
    app.gql(
        &adv,
        "mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }",
        json!({ "id": expected[0] }),
    )
    .await
    .ok();
    let r = app
        .gql(&adv, q, json!({ "f": { "unacknowledged": true } }))
        .await;
    let first: Vec<&str> = r.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, [expected[1].as_str(), expected[2].as_str()]);
}

#[tokio::test]
async fn a_desk_subscribing_from_the_lists_resume_cursor_misses_nothing_raised_in_between() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/RC/1", "ADV-A").await;
    let adv = app.token(Role::Advocate, "ADV-A");
    let resume = |filter: Value| {
        let (app, adv) = (&app, adv.clone());
        async move {
            let r = app
                .gql(
                    &adv,
                    "query($f: AlertFilter) { alerts(first: 1, filter: $f) { resumeCursor } }",
                    json!({ "f": filter }),
                )
                .await;
            r.ok()["alerts"]["resumeCursor"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // With nothing received yet, the start of the stream.
    let empty = resume(json!(null)).await;
    assert_eq!(empty, encode_cursor("alert", "0"));
    report(&app, "WMC/RC/1", "RC-1").await;
    let first = resume(json!(null)).await;
    // The same whatever the filter: an empty filtered list still says where the stream stands.
    assert_eq!(resume(json!({ "kinds": ["ORDER_EXPIRED"] })).await, first);
    // Raised after the read, before the subscription: replayed to it.
    report(&app, "WMC/RC/1", "RC-2").await;
    let mut ws = app.ws().await;
    ws.init(&adv).await;
    ws.alerts_after("1", &json!(first)).await;
    let next = ws.next_alert("1").await;
    assert_eq!(next["kind"], "BREACH_REPORTED");
    assert_ne!(next["cursor"].as_str().unwrap(), first);

    // A cursor past every alert raised is not one of this record's.
    let mut ws = app.ws().await;
    ws.init(&adv).await;
    ws.alerts_after("2", &json!(encode_cursor("alert", "999999")))
        .await;
    let refused = ws.recv().await.unwrap();
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "INVALID_CURSOR"
    );
}

#[tokio::test]
async fn each_agency_acknowledges_its_own_alerts() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/A/1", "ADV-A").await;
    report(&app, "WMC/A/1", "INC-1").await;
    let met = app.token(Role::Police, "MET");
    let adv = app.token(Role::Advocate, "ADV-A");
    let q = "{ alerts(filter: { unacknowledged: true }) { edges { node { id acknowledgedAt } } } }";
    let r = app.gql(&met, q, json!({})).await;
    let id = r.ok()["alerts"]["edges"][0]["node"]["id"].clone();
    let ack = "mutation($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedAt acknowledgedBy } }";
    let first = app.gql(&met, ack, json!({ "id": id })).await;
    let at = first.ok()["acknowledgeAlert"]["acknowledgedAt"].clone();
    assert!(at.is_string());
    assert_eq!(first.ok()["acknowledgeAlert"]["acknowledgedBy"], "met-user");
    // A repeat keeps the first acknowledgement.
    assert_eq!(
        app.gql(&met, ack, json!({ "id": id })).await.ok()["acknowledgeAlert"]["acknowledgedAt"],
        at
    );
    assert_eq!(
        app.gql(&met, q, json!({})).await.ok()["alerts"]["edges"],
        json!([])
    );
    // The advocacy service's view is its own.
    assert_eq!(
        app.gql(&adv, q, json!({})).await.ok()["alerts"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Another force cannot acknowledge (or learn of) MET's alert.
    app.gql(&app.token(Role::Police, "GMP"), ack, json!({ "id": id }))
        .await
        .err("NOT_FOUND");
}

#[tokio::test]
async fn the_websocket_speaks_graphql_transport_ws_close_codes() {
    let app = TestApp::spawn_with(|s| s.ws_init_timeout_ms = 300)
        .await
        .with_agencies()
        .await;
    let token = app.token(Role::Advocate, "ADV-A");

    let mut ws = app.ws().await;
    ws.alerts_after("1", &from_start()).await;
    assert_eq!(ws.closed().await.0, 4401, "subscribe before connection_ack");

    let mut ws = app.ws().await;
    ws.send(
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer not-a-token" } }),
    )
    .await;
    assert_eq!(ws.closed().await.0, 4403, "rejected connection_init");

    let mut ws = app.ws().await;
    ws.send(json!({ "type": "connection_init", "payload": {} }))
        .await;
    assert_eq!(ws.closed().await.0, 4403, "connection_init without a token");

    let mut ws = app.ws().await;
    assert_eq!(
        ws.closed().await,
        (4408, "Connection initialisation timeout".to_string())
    );

    let mut ws = app.ws().await;
    ws.init(&token).await;
    ws.alerts_after("dup", &from_start()).await;
    ws.alerts_after("dup", &from_start()).await;
    assert_eq!(
        ws.closed().await,
        (4409, "Subscriber for dup already exists".to_string())
    );

    let mut ws = app.ws().await;
    ws.init(&token).await;
    ws.send_raw("{not json").await;
    assert_eq!(ws.closed().await.0, 4400, "invalid message");

    let mut ws = app.ws().await;
    ws.init(&token).await;
    ws.send(json!({ "type": "next", "id": "x" })).await;
    assert_eq!(
        ws.closed().await.0,
        4400,
        "a message type clients do not send"
    );

    let mut ws = app.ws().await;
    ws.init(&token).await;
    ws.send(json!({ "type": "connection_init", "payload": { "token": token } }))
        .await;
    assert_eq!(ws.closed().await.0, 4429, "a second connection_init");

    // The {"token": ...} form is accepted too, and ping gets pong.
    let mut ws = app.ws().await;
    ws.send(json!({ "type": "connection_init", "payload": { "token": token } }))
        .await;
    assert_eq!(ws.recv().await.unwrap()["type"], "connection_ack");
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await.unwrap()["type"], "pong");
    // An invalid document is one `error` message, and the socket stays open.
    ws.subscribe("bad", "subscription { nosuchfield }", json!({}))
        .await;
    let e = ws.recv().await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["id"].as_str()),
        (Some("error"), Some("bad"))
    );
    assert_eq!(
        e["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // A query over the socket is `next` then `complete`.
    ws.subscribe("q", "{ me { role } }", json!({})).await;
    assert_eq!(
        ws.recv().await.unwrap()["payload"]["data"]["me"]["role"],
        "ADVOCATE"
    );
    assert_eq!(
        ws.recv().await.unwrap(),
        json!({ "id": "q", "type": "complete" })
    );
    ws.close().await;
}

#[tokio::test]
async fn a_connection_runs_at_most_its_limit_of_operations_and_refuses_one_more_without_closing() {
    let app = TestApp::spawn_with(|s| s.ws_max_operations = 2)
        .await
        .with_agencies()
        .await;
    shared_order(&app, "WMC/M/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after("s1", &from_start()).await;
    ws.alerts_after("s2", &from_start()).await;
    ws.alerts_after("s3", &from_start()).await;
    let refused = ws.recv().await.expect("an error message, not a close");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "s3");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_OPERATIONS"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["category"],
        "VALIDATION"
    );

    // Completing one makes room; the socket and the other operation were never interrupted.
    ws.send(json!({ "id": "s1", "type": "complete" })).await;
    ws.alerts_after("s3", &from_start()).await;
    let breach = report(&app, "WMC/M/1", "OPS-1").await;
    let mut got = vec![];
    for _ in 0..2 {
        let msg = ws.recv().await.expect("an alert");
        assert_eq!(msg["type"], "next", "{msg}");
        assert_eq!(
            msg["payload"]["data"]["alerts"]["breachId"],
            breach.as_str()
        );
        got.push(msg["id"].as_str().unwrap().to_string());
    }
    got.sort();
    assert_eq!(got, ["s2", "s3"]);
    ws.close().await;
}

#[tokio::test]
async fn the_socket_is_closed_when_its_token_expires() {
    let app = TestApp::spawn().await.with_agencies().await;
    let mut ws = app.ws().await;
    ws.init(&app.token_until(
        Role::Advocate,
        "ADV-A",
        chrono::Utc::now() + Duration::seconds(1),
    ))
    .await;
    ws.alerts_after("a", &from_start()).await;
    assert_eq!(ws.closed().await, (4403, "token expired".to_string()));
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_resumed_from_the_table_without_loss() {
    use futures_util::StreamExt;
    // One batch of slack: any burst makes the subscriber lag.
    let app = TestApp::spawn_with(|s| s.feed_capacity = 1)
        .await
        .with_agencies()
        .await;
    shared_order(&app, "WMC/G/1", "ADV-A").await;
    let adv = orderwatch::auth::Principal {
        sub: "a".into(),
        role: Role::Advocate,
        agency: "ADV-A".into(),
        supervisor: false,
    };
    let mut stream = Box::pin(
        app.services
            .alert_stream(&adv.clone().into(), Some(&encode_cursor("alert", "0")))
            .await
            .unwrap(),
    );
    let mut reported = vec![];
    for i in 0..60 {
        // Not reading the stream meanwhile: its task fills its buffer and then misses feed batches.
        reported.push(report(&app, "WMC/G/1", &format!("INC-{i}")).await);
    }
    let mut received = vec![];
    while received.len() < reported.len() {
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
            .await
            .expect("alert in time");
        received.push(next.unwrap().unwrap().breach_id.unwrap());
    }
    assert_eq!(received, reported);
}

#[tokio::test]
async fn an_alert_committed_on_one_replica_reaches_a_subscriber_on_another_once() {
    if !on_postgres() {
        // Several replicas share a PostgreSQL database; SQLite serves one process.
        return;
    }
    let a = TestApp::spawn().await.with_agencies().await;
    let b = a.replica().await;
    shared_order(&a, "WMC/P/1", "ADV-A").await;
    let mut ws = b.ws().await;
    ws.init(&b.token(Role::Advocate, "ADV-A")).await;
    ws.alerts_after("s", &from_start()).await;
    let first = report(&a, "WMC/P/1", "INC-1").await;
    assert_eq!(ws.next_alert("s").await["breachId"], first.as_str());
    let second = report(&a, "WMC/P/1", "INC-2").await;
    assert_eq!(
        ws.next_alert("s").await["breachId"],
        second.as_str(),
        "the first was delivered once"
    );
    ws.close().await;
}

#[tokio::test]
async fn an_alert_read_before_consent_was_revoked_is_not_delivered_after() {
    use futures_util::StreamExt;
    let app = TestApp::spawn().await.with_agencies().await;
    let person = shared_order(&app, "WMC/E/1", "ADV-A").await;
    let adv = orderwatch::auth::Principal {
        sub: "a".into(),
        role: Role::Advocate,
        agency: "ADV-A".into(),
        supervisor: false,
    };
    // The stream is not read yet: whatever it takes in waits in its buffer.
    let mut stream = Box::pin(
        app.services
            .alert_stream(&adv.into(), Some(&encode_cursor("alert", "0")))
            .await
            .unwrap(),
    );
    report(&app, "WMC/E/1", "INC-1").await;
    // Give the feed time to hand the alert over while consent still holds. Either way the alert must not be
    // delivered once consent is withdrawn; this only makes it likely that it was read before.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            REVOKE,
            json!({ "r": "WMC/E/1", "p": person, "a": "ADV-A" }),
        )
        .await;
    r.ok();
    shared_order(&app, "WMC/E/2", "ADV-A").await;
    let other = report(&app, "WMC/E/2", "INC-2").await;
    let next = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        next.breach_id.as_deref(),
        Some(other.as_str()),
        "the alert of the revoked order was delivered"
    );
}

#[tokio::test]
async fn a_subscription_opened_before_the_feed_has_started_misses_nothing_committed_meanwhile() {
    use futures_util::StreamExt;
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/ST/1", "ADV-A").await;
    // A second process on the same database whose feed has not started (as while its database is not yet
    // reached): nothing will ever be broadcast to it, so what it delivers must come from the table.
    let target = orderwatch::db::DbTarget::parse(&app.database_url).unwrap();
    let db = orderwatch::db::Database::connect(
        &target,
        &orderwatch::db::PoolSettings {
            max_size: 2,
            connect_timeout: std::time::Duration::from_secs(5),
            ..Default::default()
        },
    )
    .unwrap();
    let unstarted = orderwatch::service::Services::new(db, app.clock.clone());
    assert!(!unstarted.feed.started());
    let advocate: orderwatch::auth::Caller = orderwatch::auth::Principal {
        sub: "advocate-1".into(),
        role: Role::Advocate,
        agency: "ADV-A".into(),
        supervisor: false,
    }
    .into();
    // From now (no cursor); the table is read and holds nothing new yet; then a breach is committed by the
    // running server.
    let mut stream = Box::pin(unstarted.alert_stream(&advocate, None).await.unwrap());
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(300), stream.next())
            .await
            .is_err(),
        "nothing to deliver yet"
    );
    let breach = report(&app, "WMC/ST/1", "INC-ST").await;
    let alert = tokio::time::timeout(std::time::Duration::from_secs(10), stream.next())
        .await
        .expect("the alert is read from the table, not waited for from a feed that never started")
        .expect("the stream goes on")
        .unwrap();
    assert_eq!(alert.breach_id.as_deref(), Some(breach.as_str()));
    assert_eq!(alert.order_reference, "WMC/ST/1");
}

/// An `alerts` subscription alone is delivered by the transport once started (`graphql::delivery`); with a
/// directive on its field it stays on async-graphql's own streaming executor. Both send the same messages, errors
/// for withheld fields included, and both record the same disclosures and denials.
#[tokio::test]
async fn a_handed_over_subscription_sends_and_records_what_the_graphql_executor_does() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/H/1", "ADV-A").await;
    let mut ws = app.ws().await;
    ws.init(&app.token(Role::Advocate, "ADV-A")).await;
    let selection =
        "{ ...Seen k2: kind __typename order { reference protectedPersons { contact } } } } \
        fragment Seen on Alert { id kind cursor }";
    let handed_text =
        format!("subscription Live($after: String) {{ live: alerts(after: $after) {selection}");
    let executor_text = format!(
        "subscription Live($after: String, $yes: Boolean!) {{ live: alerts(after: $after) @include(if: $yes) {selection}"
    );
    ws.subscribe("handed", &handed_text, json!({ "after": from_start() }))
        .await;
    ws.subscribe(
        "executor",
        &executor_text,
        json!({ "after": from_start(), "yes": true }),
    )
    .await;
    report(&app, "WMC/H/1", "INC-H").await;
    let mut payloads = std::collections::HashMap::new();
    for _ in 0..2 {
        let msg = ws.recv().await.unwrap();
        assert_eq!(msg["type"], "next", "{msg}");
        payloads.insert(
            msg["id"].as_str().unwrap().to_string(),
            msg["payload"].clone(),
        );
    }
    // Each error's location is in its own document's text; beyond that the two are the same.
    let column = |text: &str| json!([{ "line": 1, "column": text.find("contact").unwrap() + 1 }]);
    let (mut handed, mut executor) = (payloads["handed"].clone(), payloads["executor"].clone());
    assert_eq!(handed["errors"][0]["locations"], column(&handed_text));
    assert_eq!(executor["errors"][0]["locations"], column(&executor_text));
    handed["errors"][0]["locations"].take();
    executor["errors"][0]["locations"].take();
    assert_eq!(handed, executor);
    let alert = &handed["data"]["live"];
    assert_eq!(alert["__typename"], "Alert");
    assert_eq!(alert["kind"], "BREACH_REPORTED");
    assert_eq!(alert["k2"], "BREACH_REPORTED");
    assert_eq!(alert["order"]["reference"], "WMC/H/1");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert_eq!(
        read_counter(&metrics, "orderwatch_alert_subscriptions_handed_over_total"),
        1,
        "the first subscription alone is handed over"
    );
    assert_eq!(
        handed["errors"][0]["extensions"]["code"], "FORBIDDEN_FIELD",
        "{handed}"
    );
    assert_eq!(handed["errors"][0]["path"][0], "live");
    assert!(!handed.to_string().contains("07700"), "{handed}");
    // Another breach reaches both again: the handed-over subscription goes on after its first delivery.
    report(&app, "WMC/H/1", "INC-H2").await;
    for _ in 0..2 {
        let msg = ws.recv().await.unwrap();
        assert_eq!(msg["type"], "next", "{msg}");
        assert_ne!(msg["payload"]["data"]["live"]["id"], alert["id"]);
    }
    ws.close().await;

    let auditor = app.token(Role::Auditor, "DPO");
    let events = app
        .gql(
            &auditor,
            "{ auditEvents(first: 100) { edges { node { requestId operation action objectType objectIds outcome recipient } } } }",
            json!({}),
        )
        .await;
    let events: Vec<Value> = events.ok()["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let of = |operation: &str, action: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["operation"] == operation && e["action"] == action)
            .collect()
    };
    let disclosed = of("DISCLOSE", "alerts");
    assert_eq!(
        disclosed.len(),
        4,
        "two alerts to each subscription: {disclosed:#?}"
    );
    assert!(disclosed.iter().all(|e| e["recipient"] == "ADV-A"));
    let first: Vec<&&Value> = disclosed
        .iter()
        .filter(|e| e["objectIds"][0] == alert["id"])
        .collect();
    assert_eq!(first.len(), 2);
    assert_ne!(
        first[0]["requestId"], first[1]["requestId"],
        "one per subscription"
    );
    let denied = of("DENIED", "subscription");
    assert_eq!(
        denied.len(),
        4,
        "the withheld contact, each delivery: {denied:#?}"
    );
    assert!(denied.iter().all(|e| e["outcome"] == "FORBIDDEN_FIELD"));
}

/// A delivery that selects the acknowledgement gets the subscriber's own agency's, as it stands: nothing before the
/// acknowledgement, then when and by whom to a subscriber resuming from before the alert. Many subscribers of one
/// agency ask at once for a live alert (their reads are shared while in flight); each still gets its own agency's.
#[tokio::test]
async fn a_delivery_selecting_the_acknowledgement_gets_its_own_agencys_as_it_stands() {
    let app = TestApp::spawn().await.with_agencies().await;
    shared_order(&app, "WMC/AK/1", "ADV-A").await;
    let q = "subscription($after: String) { alerts(after: $after) { id breachId acknowledgedAt acknowledgedBy } }";
    let (met, adv) = (
        app.token(Role::Police, "MET"),
        app.token(Role::Advocate, "ADV-A"),
    );
    let mut sockets = vec![];
    for (i, token) in [&met, &met, &met, &adv, &adv, &adv].into_iter().enumerate() {
        let mut ws = app.ws().await;
        ws.init(token).await;
        ws.subscribe(&format!("s{i}"), q, json!({ "after": from_start() }))
            .await;
        sockets.push(ws);
    }
    let breach = report(&app, "WMC/AK/1", "AK-INC").await;
    let mut alert_id = Value::Null;
    for (i, ws) in sockets.iter_mut().enumerate() {
        let alert = ws.next_alert(&format!("s{i}")).await;
        assert_eq!(alert["breachId"], breach.as_str());
        assert_eq!(alert["acknowledgedAt"], Value::Null, "subscriber {i}");
        assert_eq!(alert["acknowledgedBy"], Value::Null, "subscriber {i}");
        alert_id = alert["id"].clone();
    }
    let acked = app
        .gql(
            &met,
            "mutation($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedAt } }",
            json!({ "id": alert_id }),
        )
        .await;
    let at = acked.ok()["acknowledgeAlert"]["acknowledgedAt"].clone();
    // Resuming from before the alert: MET sees its acknowledgement, ADV-A (which has not acknowledged) none.
    for (token, by) in [(&met, json!("met-user")), (&adv, Value::Null)] {
        let mut ws = app.ws().await;
        ws.init(token).await;
        ws.subscribe("again", q, json!({ "after": from_start() }))
            .await;
        let alert = ws.next_alert("again").await;
        assert_eq!(alert["id"], alert_id);
        let expected_at = if by.is_null() {
            Value::Null
        } else {
            at.clone()
        };
        assert_eq!(alert["acknowledgedAt"], expected_at);
        assert_eq!(alert["acknowledgedBy"], by);
        ws.close().await;
    }
    for ws in sockets {
        ws.close().await;
    }
}

/// An acknowledgement made through one replica reaches deliveries on another at once: that replica's answer read
/// before it is not used again once the acknowledgement's notification has arrived.
#[tokio::test]
async fn an_acknowledgement_through_one_replica_is_seen_by_deliveries_on_another() {
    if !on_postgres() {
        // Several replicas share a PostgreSQL database; SQLite serves one process.
        return;
    }
    let a = TestApp::spawn().await.with_agencies().await;
    let b = a.replica().await;
    shared_order(&a, "WMC/AR/1", "ADV-A").await;
    let q = "subscription($after: String) { alerts(after: $after) { id acknowledgedAt acknowledgedBy } }";
    let met = a.token(Role::Police, "MET");
    let mut live = b.ws().await;
    live.init(&met).await;
    live.subscribe("live", q, json!({ "after": from_start() }))
        .await;
    report(&a, "WMC/AR/1", "AR-INC").await;
    // B reads MET's acknowledgement of the alert for this delivery: none yet.
    let alert = live.next_alert("live").await;
    assert_eq!(alert["acknowledgedAt"], Value::Null);
    let before = b.services.feed.ack_epoch();
    a.gql(
        &met,
        "mutation($id: ID!) { acknowledgeAlert(id: $id) { acknowledgedAt } }",
        json!({ "id": alert["id"] }),
    )
    .await
    .ok();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while b.services.feed.ack_epoch() == before {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(
        heard.is_ok(),
        "replica B never heard of the acknowledgement"
    );
    let mut again = b.ws().await;
    again.init(&met).await;
    again
        .subscribe("again", q, json!({ "after": from_start() }))
        .await;
    let resumed = again.next_alert("again").await;
    assert_eq!(resumed["id"], alert["id"]);
    assert_eq!(resumed["acknowledgedBy"], "met-user", "{resumed}");
    live.close().await;
    again.close().await;
}
