//! Alert endpoints: an agency's webhooks and duty inboxes receive every alert it would receive on a subscription,
//! signed by the Standard Webhooks specification (checked with its reference library), minimised, in order, at
//! least once with a stable `webhook-id`, through a failing receiver, across replicas, and across a server killed
//! mid-delivery; each delivery is a disclosure in the audit log.

use crate::alerts::{report, shared_order};
use crate::faults::Server;
use crate::helpers::*;
use crate::receivers::{SmtpReceiver, WebhookReceiver};
use orderwatch::auth::Role;
use orderwatch::config::Settings;
use serde_json::{json, Value};

const REGISTER: &str = "mutation($i: RegisterAlertEndpointInput!) { registerAlertEndpoint(input: $i) { secret endpoint { id agency transport target kinds state } } }";
const ENDPOINTS: &str = "query($a: String) { alertEndpoints(agency: $a) { id state attempts failingSince lastError waiting(first: 10) { webhookId alertId kind cursor } } }";

/// Quick retries and a short lease, so a test sees them in well under a second.
pub fn quick(s: &mut Settings) {
    s.endpoints.webhook_retry_first_ms = 10;
    s.endpoints.webhook_retry_max_ms = 80;
    s.endpoints.webhook_poll_ms = 100;
    s.endpoints.webhook_timeout_ms = 2_000;
    s.endpoints.webhook_lease_ms = 5_000;
}

/// Registers an endpoint as an administrator; returns its id and secret.
pub async fn register(
    app: &TestApp,
    agency: &str,
    transport: &str,
    target: &str,
    kinds: &[&str],
) -> (String, Value) {
    let r = app
        .gql(
            &app.token(Role::Admin, "OPS"),
            REGISTER,
            json!({ "i": { "agency": agency, "transport": transport, "target": target, "kinds": kinds } }),
        )
        .await;
    let made = &r.ok()["registerAlertEndpoint"];
    assert_eq!(made["endpoint"]["state"], "ACTIVE");
    (
        made["endpoint"]["id"].as_str().unwrap().to_string(),
        made["secret"].clone(),
    )
}

async fn endpoints(app: &TestApp, agency: &str) -> Vec<Value> {
    let r = app
        .gql(
            &app.token(Role::Admin, "OPS"),
            ENDPOINTS,
            json!({ "a": agency }),
        )
        .await;
    r.ok()["alertEndpoints"].as_array().unwrap().clone()
}

/// The order references and external refs of what a receiver took, in order.
fn alert_ids(taken: &[crate::receivers::Delivery]) -> Vec<String> {
    taken
        .iter()
        .map(|d| d.body["data"]["alertId"].as_str().unwrap().to_string())
        .collect()
}

/// The ids of the breach alerts raised for MET so far, oldest first, from its own alert list.
async fn met_breach_alerts(app: &TestApp) -> Vec<String> {
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            "{ alerts(first: 100, filter: { kinds: [BREACH_REPORTED] }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    r.ok()["alerts"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_breach_reaches_the_forces_webhook_signed_minimised_and_recorded_as_a_disclosure() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    shared_order(&app, "WMC/WH/1", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    let (id, secret) = register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    let secret = secret.as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");

    report(&app, "WMC/WH/1", "WH-1").await;
    let taken = receiver.wait_taken(1).await;
    let d = &taken[0];
    d.verify(&secret)
        .expect("the reference library verifies the signature");
    assert!(
        d.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err(),
        "another secret does not"
    );
    assert!(d.id().starts_with("msg_"));
    assert_eq!(d.body["type"], "alert.breach_reported");
    let data = &d.body["data"];
    assert_eq!(data["kind"], "BREACH_REPORTED");
    assert_eq!(data["orderReference"], "WMC/WH/1");
    assert_eq!(data["severity"], "URGENT");
    assert!(data["cursor"].is_string());
    // Only the alert: no name, no contact, no narrative, no incident reference.
    let raw = String::from_utf8(d.raw.clone()).unwrap();
    for personal in [
        "Sam Subject",
        "Pat Protected",
        "07700",
        "protected person's home",
        "WH-1",
        "1980-05-05",
    ] {
        assert!(!raw.contains(personal), "{personal:?} in {raw}");
    }
    let mut keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "alertId",
            "createdAt",
            "cursor",
            "dueAt",
            "kind",
            "late",
            "orderReference",
            "severity"
        ]
    );

    // The delivery is a disclosure to MET, by the endpoint.
    let disclosed = audit_events(&app, json!({ "operation": "DISCLOSE" })).await;
    let by_webhook: Vec<&Value> = disclosed
        .iter()
        .filter(|e| e["action"] == "webhook")
        .collect();
    assert_eq!(by_webhook.len(), 1, "{disclosed:#?}");
    assert_eq!(by_webhook[0]["recipient"], "MET");
    assert_eq!(by_webhook[0]["actor"]["sub"], format!("endpoint:{id}"));
    assert_eq!(by_webhook[0]["objectIds"][0], data["alertId"]);
    receiver.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_for_a_while_gets_every_alert_once_and_in_order() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    shared_order(&app, "WMC/WH/2", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    receiver.answer(503);
    for i in 0..5 {
        report(&app, "WMC/WH/2", &format!("WH2-{i}")).await;
    }
    // Several tries refused, with the first alert held and the rest behind it.
    receiver
        .wait_until("three refused tries", |got| got.len() >= 3)
        .await;
    let refused = receiver.got();
    assert!(
        refused.iter().all(|d| d.id() == refused[0].id()),
        "the head is retried alone"
    );
    let listed = endpoints(&app, "MET").await;
    assert!(listed[0]["attempts"].as_i64().unwrap() >= 1, "{listed:#?}");
    assert_eq!(listed[0]["lastError"], "HTTP 503");
    receiver.answer(200);
    let taken = receiver.wait_taken(5).await;
    assert_eq!(
        alert_ids(&taken),
        met_breach_alerts(&app).await,
        "every alert once, in order"
    );
    let listed = endpoints(&app, "MET").await;
    assert_eq!(listed[0]["attempts"], 0);
    assert_eq!(listed[0]["waiting"], json!([]));
    receiver.stop().await;
}

#[tokio::test]
async fn an_endpoint_failing_past_the_retry_period_is_marked_failing_lists_what_waits_and_replays_in_order(
) {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    shared_order(&app, "WMC/WH/3", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    let (id, _) = register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    receiver.answer(500);
    report(&app, "WMC/WH/3", "WH3-1").await;
    report(&app, "WMC/WH/3", "WH3-2").await;
    receiver
        .wait_until("a refused try", |got| !got.is_empty())
        .await;
    // A day and an hour of failures later (the server's clock), the next try gives up.
    app.clock.set(app.now() + chrono::Duration::hours(25));
    let failing = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let listed = endpoints(&app, "MET").await;
            if listed[0]["state"] == "FAILING" {
                return listed[0].clone();
            }
            receiver
                .wait_until("another try", |got| got.len() > 1)
                .await;
        }
    })
    .await
    .expect("the endpoint is marked failing");
    assert_eq!(failing["lastError"], "HTTP 500");
    let waiting: Vec<String> = failing["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["alertId"].as_str().unwrap().to_string())
        .collect();
    let raised = met_breach_alerts(&app).await;
    assert_eq!(
        waiting, raised,
        "the dead-letter view lists both, oldest first"
    );
    assert!(failing["waiting"][0]["webhookId"]
        .as_str()
        .unwrap()
        .starts_with("msg_"));
    // Failing: nothing more is tried.
    let tries = receiver.got().len();

    receiver.answer(200);
    let r = app
        .gql(
            &app.token(Role::Admin, "OPS"),
            "mutation($id: ID!) { resumeAlertEndpoint(id: $id) { state attempts } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        r.ok()["resumeAlertEndpoint"],
        json!({ "state": "ACTIVE", "attempts": 0 })
    );
    let taken = receiver.wait_taken(2).await;
    assert_eq!(alert_ids(&taken), raised);
    assert!(receiver.got().len() >= tries + 2);
    receiver.stop().await;
}

#[tokio::test]
async fn two_replicas_deliver_each_alert_once_in_order() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    let other = app.replica().await;
    shared_order(&app, "WMC/WH/4", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    for i in 0..6 {
        let on = if i % 2 == 0 { &app } else { &other };
        report(on, "WMC/WH/4", &format!("WH4-{i}")).await;
    }
    let taken = receiver.wait_taken(6).await;
    assert_eq!(alert_ids(&taken), met_breach_alerts(&app).await);
    assert_eq!(
        receiver.got().len(),
        6,
        "nothing sent twice: {:#?}",
        receiver.got()
    );
    receiver.stop().await;
}

#[tokio::test]
async fn a_slow_endpoint_delays_only_itself() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    shared_order(&app, "WMC/WH/10", "ADV-A").await;
    let (slow, quick_one) = (
        WebhookReceiver::start().await,
        WebhookReceiver::start().await,
    );
    register(&app, "MET", "WEBHOOK", &slow.url, &["BREACH_REPORTED"]).await;
    register(
        &app,
        "ADV-A",
        "WEBHOOK",
        &quick_one.url,
        &["BREACH_REPORTED"],
    )
    .await;
    slow.hold();
    report(&app, "WMC/WH/10", "WH10-1").await;
    report(&app, "WMC/WH/10", "WH10-2").await;
    // Both alerts reach the other endpoint while the slow one's first delivery is still unanswered. (Each endpoint's
    // worker sends on its own, so the slow one's first request may arrive after the other's two: wait for both.)
    slow.wait_until("the first delivery held", |got| !got.is_empty())
        .await;
    quick_one.wait_taken(2).await;
    let held = slow.got();
    assert_eq!(held.len(), 1, "{held:#?}");
    assert_eq!(held[0].status, 0, "still unanswered");
    slow.release();
    assert_eq!(slow.wait_taken(2).await.len(), 2);
    slow.stop().await;
    quick_one.stop().await;
}

#[tokio::test]
async fn a_server_killed_mid_delivery_resends_it_with_the_same_id_after_its_lease_runs_out() {
    // The test's own server delivers nothing: the binary does.
    let app = TestApp::spawn_with(|s| {
        quick(s);
        s.endpoints.deliver = false;
    })
    .await
    .with_agencies()
    .await;
    app.on_system_clock();
    shared_order(&app, "WMC/WH/5", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    let env = [
        ("ORDERWATCH_WEBHOOK_POLL_MS", "100"),
        ("ORDERWATCH_WEBHOOK_LEASE_MS", "1500"),
        ("ORDERWATCH_WEBHOOK_TIMEOUT_MS", "500"),
        ("ORDERWATCH_WEBHOOK_RETRY_FIRST_MS", "10"),
    ];
    let server = Server::start_with(&app.database_url, &env, std::process::Stdio::null());
    register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    receiver.hold();
    for i in 0..3 {
        report(&app, "WMC/WH/5", &format!("WH5-{i}")).await;
    }
    // The first delivery is in flight, unanswered, when the server is killed.
    receiver
        .wait_until("the first delivery", |got| !got.is_empty())
        .await;
    let in_flight = receiver.got()[0].id();
    server.kill();
    receiver.release();

    let server = Server::start_with(&app.database_url, &env, std::process::Stdio::null());
    let taken = receiver.wait_taken(3).await;
    assert_eq!(taken[0].id(), in_flight);
    let sent = receiver
        .got()
        .iter()
        .filter(|d| d.id() == in_flight)
        .count();
    assert_eq!(
        sent, 2,
        "the delivery in flight is sent again, with the same id, by the server that took over"
    );
    assert_eq!(
        alert_ids(&taken),
        met_breach_alerts(&app).await,
        "every alert once after de-duplication, in order"
    );
    server.kill();
    receiver.stop().await;
}

#[tokio::test]
async fn an_advocates_webhook_follows_consent_and_a_paused_one_waits() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    let person = shared_order(&app, "WMC/WH/6", "ADV-A").await;
    shared_order(&app, "WMC/WH/7", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    let (id, _) = register(
        &app,
        "ADV-A",
        "WEBHOOK",
        &receiver.url,
        &["BREACH_REPORTED"],
    )
    .await;
    report(&app, "WMC/WH/6", "WH6-1").await;
    receiver.wait_taken(1).await;

    // Consent withdrawn: that order's next breach is not delivered; the other order's is.
    app.gql(
        &app.token(Role::Police, "MET"),
        "mutation($p: ID!) { revokeOrderShare(reference: \"WMC/WH/6\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }",
        json!({ "p": person }),
    )
    .await
    .ok();
    report(&app, "WMC/WH/6", "WH6-2").await;
    report(&app, "WMC/WH/7", "WH7-1").await;
    let taken = receiver.wait_taken(2).await;
    let refs: Vec<&str> = taken
        .iter()
        .map(|d| d.body["data"]["orderReference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["WMC/WH/6", "WMC/WH/7"]);

    // Paused: alerts wait, listed; resumed: delivered.
    let admin = app.token(Role::Admin, "OPS");
    let r = app
        .gql(
            &admin,
            "mutation($id: ID!) { pauseAlertEndpoint(id: $id) { state } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(r.ok()["pauseAlertEndpoint"]["state"], "PAUSED");
    report(&app, "WMC/WH/7", "WH7-2").await;
    let listed = endpoints(&app, "ADV-A").await;
    assert_eq!(listed[0]["state"], "PAUSED");
    assert_eq!(listed[0]["waiting"].as_array().unwrap().len(), 1);
    assert_eq!(receiver.got().len(), 2, "nothing sent while paused");
    app.gql(
        &admin,
        "mutation($id: ID!) { resumeAlertEndpoint(id: $id) { state } }",
        json!({ "id": id }),
    )
    .await
    .ok();
    assert_eq!(receiver.wait_taken(3).await.len(), 3);

    // Removed: no longer listed, nothing more sent.
    let r = app
        .gql(
            &admin,
            "mutation($id: ID!) { removeAlertEndpoint(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    r.ok();
    assert_eq!(endpoints(&app, "ADV-A").await, Vec::<Value>::new());
    let erased = audit_events(&app, json!({ "operation": "ERASE" })).await;
    assert!(
        erased.iter().any(|e| e["action"] == "removeAlertEndpoint"),
        "{erased:#?}"
    );
    receiver.stop().await;
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_previous_one_during_the_overlap() {
    let app = TestApp::spawn_with(quick).await.with_agencies().await;
    shared_order(&app, "WMC/WH/8", "ADV-A").await;
    let receiver = WebhookReceiver::start().await;
    let (id, old) = register(&app, "MET", "WEBHOOK", &receiver.url, &["BREACH_REPORTED"]).await;
    let r = app
        .gql(
            &app.token(Role::Admin, "OPS"),
            "mutation($id: ID!) { rotateAlertEndpointSecret(id: $id, overlapHours: 2) { secret endpoint { previousSecretUntil } } }",
            json!({ "id": id }),
        )
        .await;
    let rotated = &r.ok()["rotateAlertEndpointSecret"];
    let first_new = rotated["secret"].as_str().unwrap().to_string();
    // Rotated again within the overlap (the first answer lost, say): the secrets before still sign meanwhile.
    let r = app
        .gql(
            &app.token(Role::Admin, "OPS"),
            "mutation($id: ID!) { rotateAlertEndpointSecret(id: $id, overlapHours: 2) { secret } }",
            json!({ "id": id }),
        )
        .await;
    let new = r.ok()["rotateAlertEndpointSecret"]["secret"]
        .as_str()
        .unwrap();
    assert_ne!(new, old.as_str().unwrap());
    assert!(rotated["endpoint"]["previousSecretUntil"].is_string());
    report(&app, "WMC/WH/8", "WH8-1").await;
    let d = receiver.wait_taken(1).await.remove(0);
    d.verify(new).unwrap();
    d.verify(&first_new).unwrap();
    d.verify(old.as_str().unwrap()).unwrap();
    assert_eq!(
        d.headers["webhook-signature"]
            .to_str()
            .unwrap()
            .split(' ')
            .count(),
        3
    );
    // After the overlap, only the new secret signs.
    app.clock.set(app.now() + chrono::Duration::hours(3));
    report(&app, "WMC/WH/8", "WH8-2").await;
    let d = receiver.wait_taken(2).await.remove(1);
    d.verify(new).unwrap();
    assert!(d.verify(old.as_str().unwrap()).is_err());
    receiver.stop().await;
}

#[tokio::test]
async fn a_duty_inbox_gets_an_email_with_no_personal_data() {
    let smtp = SmtpReceiver::start();
    let url = smtp.url.clone();
    let app = TestApp::spawn_with(move |s| {
        quick(s);
        s.endpoints.smtp_url = Some(url);
        s.endpoints.smtp_from = "alerts@orderwatch.example".into();
        s.endpoints.console_url = "https://orderwatch.example".into();
    })
    .await
    .with_agencies()
    .await;
    shared_order(&app, "WMC/WH/9", "ADV-A").await;
    let (_, secret) = register(
        &app,
        "ADV-A",
        "EMAIL",
        "duty@adv-a.example.org",
        &["BREACH_REPORTED"],
    )
    .await;
    assert_eq!(secret, Value::Null, "an inbox has no signing secret");
    report(&app, "WMC/WH/9", "WH9-1").await;
    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail.to, ["duty@adv-a.example.org"]);
    assert!(mail.from.contains("alerts@orderwatch.example"));
    for said in [
        "BREACH_REPORTED",
        "WMC/WH/9",
        "https://orderwatch.example/#/orders/WMC%2FWH%2F9",
    ] {
        assert!(mail.data.contains(said), "{said:?} not in {}", mail.data);
    }
    for personal in [
        "Sam Subject",
        "Pat Protected",
        "07700",
        "protected person's home",
        "WH9-1",
        "1980-05-05",
    ] {
        assert!(
            !mail.data.contains(personal),
            "{personal:?} in {}",
            mail.data
        );
    }
    let disclosed = audit_events(&app, json!({ "operation": "DISCLOSE" })).await;
    assert_eq!(
        disclosed
            .iter()
            .filter(|e| e["action"] == "email" && e["recipient"] == "ADV-A")
            .count(),
        1
    );
}

#[tokio::test]
async fn registering_refuses_what_cannot_work_and_changes_nothing() {
    let app = TestApp::spawn_with(|s| {
        quick(s);
        s.endpoints.webhook_allow_http = Some(false);
        s.endpoints.webhook_allow_private = Some(false);
    })
    .await
    .with_agencies()
    .await;
    let admin = app.token(Role::Admin, "OPS");
    let before = app.snapshot().await;
    for (agency, transport, target, kinds, code) in [
        (
            "MET",
            "WEBHOOK",
            "http://cases.example.org/hook",
            vec!["BREACH_REPORTED"],
            "INVALID_ENDPOINT",
        ),
        (
            "MET",
            "WEBHOOK",
            "not a url",
            vec!["BREACH_REPORTED"],
            "INVALID_ENDPOINT",
        ),
        (
            "MET",
            "WEBHOOK",
            "https://127.0.0.1:9/hook",
            vec!["BREACH_REPORTED"],
            "ENDPOINT_ADDRESS_REFUSED",
        ),
        (
            "MET",
            "WEBHOOK",
            "https://169.254.169.254/latest",
            vec!["BREACH_REPORTED"],
            "ENDPOINT_ADDRESS_REFUSED",
        ),
        (
            "MET",
            "WEBHOOK",
            "https://cases.example.org/hook",
            vec![],
            "INVALID_ENDPOINT",
        ),
        (
            "WMC",
            "WEBHOOK",
            "https://cases.example.org/hook",
            vec!["BREACH_REPORTED"],
            "NO_ALERTS_FOR_AGENCY",
        ),
        (
            "NOPE",
            "WEBHOOK",
            "https://cases.example.org/hook",
            vec!["BREACH_REPORTED"],
            "UNKNOWN_AGENCY",
        ),
        (
            "MET",
            "EMAIL",
            "duty@met.example.org",
            vec!["BREACH_REPORTED"],
            "INVALID_ENDPOINT",
        ),
    ] {
        let r = app
            .gql(&admin, REGISTER, json!({ "i": { "agency": agency, "transport": transport, "target": target, "kinds": kinds } }))
            .await;
        r.err(code);
    }
    // Not for other roles.
    let r = app
        .gql(
            &app.token(Role::Police, "MET"),
            REGISTER,
            json!({ "i": { "agency": "MET", "transport": "WEBHOOK", "target": "https://cases.example.org/hook", "kinds": ["BREACH_REPORTED"] } }),
        )
        .await;
    r.err("FORBIDDEN");
    assert_eq!(app.snapshot().await, before);
    let r = app
        .gql(
            &admin,
            "mutation { pauseAlertEndpoint(id: \"nope\") { state } }",
            json!({}),
        )
        .await;
    r.err("NOT_FOUND");
}
