//! Lists: pagination, filters, and a constant number of SQL statements whatever the page size.

use crate::helpers::*;
use chrono::Duration;
use orderwatch::auth::Role;
use serde_json::{json, Value};

fn refs(r: &Gql) -> Vec<String> {
    r.ok()["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["reference"].as_str().unwrap().to_string())
        .collect()
}

/// The references of every page of `q` (an `orders` query taking `$a` as `after`), following `endCursor`.
async fn every_page(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let mut seen = vec![];
    let mut after = Value::Null;
    loop {
        let r = app.gql(token, q, json!({ "a": after })).await;
        seen.extend(refs(&r));
        let info = &r.data["orders"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap() {
            return seen;
        }
        after = info["endCursor"].clone();
    }
}

/// Grants `n` orders, 25 to a request (aliased mutations run one after another; the alias limit is 30).
async fn grant_many(app: &TestApp, prefix: &str, n: usize, patch: impl Fn(usize, &mut Value)) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(25) {
        let mut doc = String::from("mutation(");
        let mut body = String::new();
        let mut vars = serde_json::Map::new();
        for &i in chunk {
            doc.push_str(&format!("$i{i}: GrantOrderInput!,"));
            body.push_str(&format!("g{i}: grantOrder(input: $i{i}) {{ reference }} "));
            let mut input = spo_input(app, &format!("WMC/{prefix}/{i:03}"));
            patch(i, &mut input);
            vars.insert(format!("i{i}"), input);
        }
        doc.push_str(") { ");
        doc.push_str(&body);
        doc.push('}');
        app.gql(&app.token(Role::Court, "WMC"), &doc, Value::Object(vars))
            .await
            .ok();
    }
}

#[tokio::test]
async fn pages_follow_cursors_newest_first_without_gaps_or_repeats() {
    let app = TestApp::spawn().await.with_agencies().await;
    grant_many(&app, "P", 5, |_, _| {}).await;
    let police = app.token(Role::Police, "MET");
    let q = "query($a: String) { orders(first: 2, after: $a) { edges { cursor node { reference } } pageInfo { hasNextPage endCursor } } }";
    let seen = every_page(&app, &police, q).await;
    assert_eq!(
        seen,
        [
            "WMC/P/004",
            "WMC/P/003",
            "WMC/P/002",
            "WMC/P/001",
            "WMC/P/000"
        ]
    );
}

#[tokio::test]
async fn ending_soonest_pages_by_last_day_then_the_undated_without_gaps_or_repeats() {
    let app = TestApp::spawn().await.with_agencies().await;
    // Days past the shortest term each order ends (None: no last day).
    let ends = [
        None,
        Some(300),
        Some(100),
        None,
        Some(100),
        Some(50),
        Some(700),
    ];
    grant_many(&app, "E", ends.len(), |i, input| {
        let base: chrono::NaiveDate = input["expiresOn"].as_str().unwrap().parse().unwrap();
        input["expiresOn"] = match ends[i] {
            Some(days) => json!((base + Duration::days(days)).to_string()),
            None => Value::Null,
        };
    })
    .await;
    let police = app.token(Role::Police, "MET");
    let q = "query($a: String) { orders(orderBy: ENDING_SOONEST, first: 2, after: $a) { edges { node { reference } } pageInfo { hasNextPage endCursor } } }";
    let seen = every_page(&app, &police, q).await;
    // Earliest last day first, ties in the order recorded, then those with none.
    assert_eq!(
        seen,
        [
            "WMC/E/005",
            "WMC/E/002",
            "WMC/E/004",
            "WMC/E/001",
            "WMC/E/006",
            "WMC/E/000",
            "WMC/E/003"
        ]
    );
    // The default, and NEWEST, are newest first.
    let newest = app
        .gql(&police, "{ orders(orderBy: NEWEST, first: 1) { edges { node { reference } } pageInfo { endCursor } } }", json!({}))
        .await;
    assert_eq!(refs(&newest), ["WMC/E/006"]);
    // A cursor of one order is not one of the other.
    let other = newest.data["orders"]["pageInfo"]["endCursor"].clone();
    app.gql(&police, q, json!({ "a": other }))
        .await
        .err("INVALID_CURSOR");
}

#[tokio::test]
async fn bad_page_sizes_and_cursors_are_refused_with_codes() {
    let app = TestApp::spawn().await.with_agencies().await;
    let police = app.token(Role::Police, "MET");
    for first in [0, 101, -1] {
        app.gql(
            &police,
            "query($f: Int) { orders(first: $f) { edges { cursor } } }",
            json!({ "f": first }),
        )
        .await
        .err("INVALID_PAGE_SIZE");
    }
    app.gql(
        &police,
        "{ orders(after: \"garbage\") { edges { cursor } } }",
        json!({}),
    )
    .await
    .err("INVALID_CURSOR");
    // A cursor from another list is not an order cursor.
    let agencies = app
        .gql(
            &police,
            "{ agencies(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let agency_cursor = agencies.ok()["agencies"]["pageInfo"]["endCursor"].clone();
    app.gql(
        &police,
        "query($a: String) { orders(after: $a) { edges { cursor } } }",
        json!({ "a": agency_cursor }),
    )
    .await
    .err("INVALID_CURSOR");
}

#[tokio::test]
async fn filters_by_type_agency_court_and_expiry_window() {
    let app = TestApp::spawn().await.with_agencies().await;
    let today = app.today();
    grant_many(&app, "F", 4, |i, input| {
        if i % 2 == 1 {
            input["type"] = json!("RESTRAINING_ORDER");
            input["applicantAgency"] = json!("GMP");
            input["expiresOn"] = json!((today + Duration::days(40 + i as i64)).to_string());
            input["conditions"] = json!([]);
        }
    })
    .await;
    let police = app.token(Role::Police, "MET");
    let q = "query($f: OrderFilter) { orders(filter: $f) { edges { node { reference } } } }";
    let run = |f: Value| {
        let app = &app;
        let police = police.clone();
        async move { refs(&app.gql(&police, q, json!({ "f": f })).await) }
    };
    assert_eq!(
        run(json!({ "type": "RESTRAINING_ORDER" })).await,
        ["WMC/F/003", "WMC/F/001"]
    );
    assert_eq!(
        run(json!({ "applicantAgency": "MET" })).await,
        ["WMC/F/002", "WMC/F/000"]
    );
    assert_eq!(
        run(json!({ "court": "WMC", "type": "SPO" })).await,
        ["WMC/F/002", "WMC/F/000"]
    );
    let d = |n: i64| (today + Duration::days(n)).to_string();
    assert_eq!(run(json!({ "expiresBefore": d(42) })).await, ["WMC/F/001"]);
    assert_eq!(
        run(json!({ "expiresAfter": d(41), "expiresBefore": d(100) })).await,
        ["WMC/F/003"]
    );
    app.gql(
        &police,
        q,
        json!({ "f": { "expiresAfter": d(50), "expiresBefore": d(10) } }),
    )
    .await
    .err("INVALID_RANGE");
    app.gql(&police, q, json!({ "f": { "subjectName": "..." } }))
        .await
        .err("INVALID_NAME");

    // Served or not: the worklist's unserved orders.
    app.gql(
        &police,
        "mutation { recordService(reference: \"WMC/F/002\", servedAt: \"2020-01-01T00:00:00Z\", method: PERSONAL) { reference } }",
        json!({}),
    )
    .await
    .err("SERVED_BEFORE_MADE");
    app.gql(
        &police,
        "mutation($at: DateTime!) { recordService(reference: \"WMC/F/002\", servedAt: $at, method: PERSONAL) { reference } }",
        json!({ "at": app.now().to_rfc3339() }),
    )
    .await
    .ok();
    assert_eq!(
        run(json!({ "serviceStatus": "SERVED" })).await,
        ["WMC/F/002"]
    );
    assert_eq!(
        run(json!({ "serviceStatus": "UNSERVED", "applicantAgency": "MET" })).await,
        ["WMC/F/000"]
    );
}

/// Statements sent less the connection checks among them: what requests cost, whatever the pool decided to check.
async fn statements_less_pings(app: &TestApp) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    read_counter(&text, "orderwatch_db_statements_total")
        - read_counter(&text, "orderwatch_db_pings_total")
}

#[tokio::test]
async fn a_page_of_100_orders_with_everything_costs_as_many_statements_as_a_page_of_2() {
    let app = TestApp::spawn().await.with_agencies().await;
    grant_many(&app, "N", 100, |_, _| {}).await;
    // Some orders with a replacement link, so that lookup is exercised as well.
    let court = app.token(Role::Court, "WMC");
    let mut interim = spo_input(&app, "WMC/N/INTERIM");
    interim["type"] = json!("INTERIM_SPO");
    interim["expiresOn"] = json!((app.today() + Duration::days(20)).to_string());
    interim["conditions"] = json!([]);
    app.grant(&court, interim).await.ok();
    let mut full = spo_input(&app, "WMC/N/FULL");
    full["replacesReference"] = json!("WMC/N/INTERIM");
    let granted = app.grant(&court, full).await;
    // A breach (with a condition) and a consent on an order of both pages, so every part of an order is loaded.
    let condition = granted.ok()["grantOrder"]["conditions"][0]["id"].clone();
    let person = granted.ok()["grantOrder"]["protectedPersons"][0]["id"].clone();
    let met = app.token(Role::Police, "MET");
    let report = "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }";
    let breach = json!({ "reference": "WMC/N/FULL", "occurredAt": app.now().to_rfc3339(), "description": "d",
        "externalRef": "N-1", "conditionIds": [condition] });
    app.gql(&met, report, json!({ "i": breach })).await.ok();
    let share = "mutation($p: ID!) { shareOrderWithAdvocacy(reference: \"WMC/N/FULL\", protectedPersonId: $p, advocacyAgency: \"ADV-A\") { id } }";
    app.gql(&met, share, json!({ "p": person })).await.ok();

    let police = app.token(Role::Police, "MET");
    let q = format!(
        "query($n: Int) {{ orders(first: $n) {{ edges {{ node {{ {ORDER_FIELDS} }} }} }} }}"
    );
    // The counter is process-wide: background work (the alert feed woken by a NOTIFY) can only add to it, so the
    // least of three measurements is the request's own cost.
    let mut cost = vec![];
    for n in [2, 100] {
        let mut least = u64::MAX;
        for _ in 0..3 {
            let before = statements_less_pings(&app).await;
            let r = app.gql(&police, &q, json!({ "n": n })).await;
            assert_eq!(
                r.ok()["orders"]["edges"].as_array().unwrap().len(),
                n as usize
            );
            least = least.min(statements_less_pings(&app).await - before);
        }
        cost.push(least);
    }
    assert_eq!(cost[0], cost[1], "statements for 2 vs 100 orders: {cost:?}");
    // At most (connection checks left out): caller's agency 1 (until it is cached), orders 1,
    // names/persons/conditions/shares/hearings together 1 (`db::parts`), versions 1, agencies 1, replacement links
    // 2, breaches 3, notifications/deadlines 2 = 12, and the audit record of the read (BEGIN, lock, last hash,
    // insert, COMMIT) 5: 17 whatever the page size.
    assert!(cost[1] <= 17, "a page costs {} statements", cost[1]);
}

#[tokio::test]
async fn each_order_on_a_page_gets_its_own_names_persons_and_conditions_in_order() {
    // The parts of all the orders on a page come back in one statement (`db::parts`); each must land on its own order,
    // in the order it was given.
    let app = TestApp::spawn().await.with_agencies().await;
    let names = |i: usize| vec![format!("Subject {i} first"), format!("Subject {i} second")];
    let persons = |i: usize| {
        (0..=i)
            .map(|k| format!("Person {i}-{k}"))
            .collect::<Vec<_>>()
    };
    let conditions = |i: usize| {
        (0..=i + 1)
            .map(|k| format!("Condition {i}-{k}"))
            .collect::<Vec<_>>()
    };
    grant_many(&app, "P", 4, |i, input| {
        input["subject"]["names"] = json!(names(i));
        input["protectedPersons"] = json!(persons(i)
            .iter()
            .map(|n| json!({ "name": n }))
            .collect::<Vec<_>>());
        input["conditions"] = json!(conditions(i)
            .iter()
            .map(|t| json!({ "kind": "PROHIBITION", "text": t }))
            .collect::<Vec<_>>());
    })
    .await;
    let police = app.token(Role::Police, "MET");
    let texts = |v: &Value, field: &str| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].as_str().unwrap().to_string())
            .collect()
    };
    let fields = "reference subject { names } protectedPersons { name } conditions { text }";
    let page = app
        .gql(
            &police,
            &format!("{{ orders(first: 10) {{ edges {{ node {{ {fields} }} }} }} }}"),
            json!({}),
        )
        .await;
    let edges = page.ok()["orders"]["edges"].as_array().unwrap().clone();
    assert_eq!(edges.len(), 4);
    for edge in edges {
        let node = &edge["node"];
        let i: usize = node["reference"].as_str().unwrap()[6..].parse().unwrap();
        assert_eq!(node["subject"]["names"], json!(names(i)), "{node}");
        assert_eq!(
            texts(&node["protectedPersons"], "name"),
            persons(i),
            "{node}"
        );
        assert_eq!(texts(&node["conditions"], "text"), conditions(i), "{node}");
        // The same order looked up alone reads the same.
        let alone = app
            .gql(
                &police,
                &format!("{{ order(reference: \"WMC/P/{i:03}\") {{ {fields} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(&alone.ok()["order"], node);
    }
}

#[tokio::test]
async fn a_read_loads_the_histories_it_selects_and_only_those() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/H/1"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let at = app.now().to_rfc3339();
    app.gql(&met, "mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }",
        json!({ "i": { "reference": "WMC/H/1", "occurredAt": at, "description": "d", "externalRef": "H-1" } }))
        .await
        .ok();
    app.gql(&met, "mutation($at: DateTime!) { recordNotification(input: { reference: \"WMC/H/1\", kind: INITIAL, notifiedAt: $at }) { reference } }",
        json!({ "at": at }))
        .await
        .ok();
    // The histories, and the parts every order has: each is read only when selected.
    let histories = "versions { version conditions { text } } breaches { externalRef } notifications { kind } \
        deadlines { kind } subject { names } protectedPersons { name } conditions { text } hearings { __typename }";
    let has_all = |order: &Value| {
        [
            "versions",
            "breaches",
            "notifications",
            "deadlines",
            "protectedPersons",
            "conditions",
        ]
        .iter()
        .all(|f| order[f].as_array().is_some_and(|a| !a.is_empty()))
            && order["subject"]["names"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            && order["hearings"].is_array()
    };
    // Selected directly, through a named fragment, through an inline fragment in a list page: each is loaded.
    let direct = app
        .gql(
            &met,
            &format!("{{ order(reference: \"WMC/H/1\") {{ reference {histories} }} }}"),
            json!({}),
        )
        .await;
    assert!(has_all(&direct.ok()["order"]), "{:#?}", direct.data);
    let fragment = app
        .gql(&met, &format!("query {{ order(reference: \"WMC/H/1\") {{ ...H }} }} fragment H on ProtectionOrder {{ {histories} }}"), json!({}))
        .await;
    assert!(has_all(&fragment.ok()["order"]), "{:#?}", fragment.data);
    let page = app
        .gql(&met, &format!("{{ orders(first: 5) {{ edges {{ node {{ ... on ProtectionOrder {{ {histories} }} }} }} }} }}"), json!({}))
        .await;
    assert!(
        has_all(&page.ok()["orders"]["edges"][0]["node"]),
        "{:#?}",
        page.data
    );

    // The control-room selection leaves the histories out, and costs fewer statements (least of three runs, as
    // background work can only add to the process-wide counter).
    let cost = |q: String| {
        let (app, met) = (&app, &met);
        async move {
            let mut least = u64::MAX;
            for _ in 0..3 {
                let before = statements_less_pings(app).await;
                app.gql(met, &q, json!({})).await.ok();
                least = least.min(statements_less_pings(app).await - before);
            }
            least
        }
    };
    let status =
        cost("{ order(reference: \"WMC/H/1\") { reference status conditions { text } } }".into())
            .await;
    let everything = cost(format!(
        "{{ order(reference: \"WMC/H/1\") {{ reference status conditions {{ text }} {histories} }} }}"
    ))
    .await;
    // The lookup is one statement: the order and its parts together. Its audit record is one more on PostgreSQL
    // (the writer's one-statement append), four on SQLite (a transaction of the newest hash and the insert).
    let audit = if on_postgres() { 1 } else { 4 };
    assert_eq!(status, 1 + audit, "statements of a control-room lookup");
    assert!(
        everything >= status + 4,
        "the histories cost one statement each at least: {status} without, {everything} with"
    );
    // A selection of none of the parts reads the order row alone: still one statement.
    let bare = cost("{ order(reference: \"WMC/H/1\") { reference status } }".into()).await;
    assert_eq!(
        bare,
        1 + audit,
        "statements of a lookup of the order's own fields"
    );
}

#[tokio::test]
async fn a_registered_agency_is_read_once_and_the_database_refuses_to_change_it() {
    let app = TestApp::spawn().await.with_agencies().await;
    app.grant(&app.token(Role::Court, "WMC"), spo_input(&app, "WMC/A/1"))
        .await
        .ok();
    let met = app.token(Role::Police, "MET");
    let lookup = "{ order(reference: \"WMC/A/1\") { reference status applicantAgency { name } court { name } } }";
    // Statements of one lookup on `server`, the answer checked.
    async fn cost(server: &TestApp, token: &str, lookup: &str) -> u64 {
        let before = statements_less_pings(server).await;
        let answer = server.gql(token, lookup, json!({})).await;
        assert_eq!(
            answer.ok()["order"]["applicantAgency"]["name"],
            "MET (test)"
        );
        assert_eq!(answer.ok()["order"]["court"]["name"], "WMC (test)");
        statements_less_pings(server).await - before
    }
    // A new server on the same database has read no agency yet: its first lookup reads the caller's agency (MET)
    // and the order's court (WMC), later ones answer both from memory. Its pool holds one connection, opened by
    // /readyz before the first lookup, so no lookup pays for opening a new one; connection checks (a pause of over
    // a second on a loaded machine is enough for one) are counted apart and left out. Background work can only add
    // statements, so each side is the least of three (three new servers for the first lookups).
    let (mut first, mut later) = (u64::MAX, u64::MAX);
    for _ in 0..3 {
        let replica = app.replica_with(|s| s.db_pool_size = 1).await;
        replica.get("/readyz").await;
        first = first.min(cost(&replica, &met, lookup).await);
        for _ in 0..3 {
            later = later.min(cost(&replica, &met, lookup).await);
        }
    }
    // On PostgreSQL a new server's audit writer also reads the chain's newest hash before its first batch, and
    // then keeps it (`db::audit::append_batch`).
    let writer_learns_head = if on_postgres() { 1 } else { 0 };
    assert_eq!(
        first,
        later + 2 + writer_learns_head,
        "the agencies cost two statements the first time only: {first} then {later}"
    );

    // A code not registered is never remembered as missing: once registered, it is found at once.
    let newcomer = app.token(Role::Police, "NEW");
    app.gql(&newcomer, lookup, json!({}))
        .await
        .err("AGENCY_NOT_REGISTERED");
    app.gql(
        &app.token(Role::Admin, "OPS"),
        "mutation { createAgency(input: { code: \"NEW\", name: \"New force\", kind: POLICE_FORCE }) { code } }",
        json!({}),
    )
    .await
    .ok();
    let seen = app.gql(&newcomer, lookup, json!({})).await;
    assert_eq!(seen.ok()["order"]["reference"], "WMC/A/1");

    // The memory is sound because no one can change or remove a registered agency, even with database access.
    for sql in [
        "UPDATE agencies SET name = 'Renamed' WHERE code = 'MET'",
        "DELETE FROM agencies WHERE code = 'NEW'",
    ] {
        let refused = raw_sql(&app, &[sql]).unwrap_err();
        assert!(
            refused.contains("cannot be changed or removed"),
            "{refused}"
        );
    }
    let again = app.gql(&met, lookup, json!({})).await;
    assert_eq!(again.ok()["order"]["applicantAgency"]["name"], "MET (test)");
}
