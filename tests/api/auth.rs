//! Authentication over HTTP: every `/graphql` request needs a valid token; the rest of the HTTP surface.

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use orderwatch::auth::Role;
use serde_json::{json, Value};

fn forge(claims: Value, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// Claims valid now: a token's times are checked against the system clock, not the server's test clock.
fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "u1", "role": "POLICE", "agency": "MET", "iss": "orderwatch", "aud": "orderwatch", "iat": now, "exp": now + 600 })
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_and_no_data() {
    let app = TestApp::spawn().await.with_agencies().await;
    let body = json!({ "query": "{ me { sub } }" });
    let mut bad: Vec<(&str, Option<String>)> =
        vec![("no token", None), ("garbage", Some("not.a.jwt".into()))];
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims();
        f(&mut c);
        forge(c, SECRET.as_bytes())
    };
    bad.push((
        "expired",
        Some(with(&|c| {
            c["exp"] = json!(chrono::Utc::now().timestamp() - 3600)
        })),
    ));
    bad.push((
        "not yet valid",
        Some(with(&|c| {
            c["nbf"] = json!(chrono::Utc::now().timestamp() + 3600)
        })),
    ));
    bad.push((
        "wrong issuer",
        Some(with(&|c| c["iss"] = json!("elsewhere"))),
    ));
    bad.push((
        "wrong audience",
        Some(with(&|c| c["aud"] = json!("elsewhere"))),
    ));
    bad.push((
        "no exp",
        Some(with(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        })),
    ));
    bad.push((
        "no aud",
        Some(with(&|c| {
            c.as_object_mut().unwrap().remove("aud");
        })),
    ));
    bad.push((
        "unknown role",
        Some(with(&|c| c["role"] = json!("SUPERUSER"))),
    ));
    bad.push((
        "role as an array",
        Some(with(&|c| c["role"] = json!(["POLICE", "ADMIN"]))),
    ));
    bad.push((
        "exp as a string",
        Some(with(&|c| c["exp"] = json!("9999999999"))),
    ));
    bad.push((
        "bad agency code",
        Some(with(&|c| c["agency"] = json!("met; drop"))),
    ));
    bad.push((
        "wrong key",
        Some(forge(
            claims(),
            b"another-secret-of-at-least-thirty-two-bytes",
        )),
    ));
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    bad.push(("alg none", Some(format!("{header}.{payload}."))));
    bad.push(("oversized", Some("a".repeat(20_000))));
    for (what, token) in bad {
        let res = app.post_raw(token.as_deref(), body.clone()).await;
        assert_eq!(res.status().as_u16(), 401, "{what}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(
            v["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{what}"
        );
        assert!(v.get("data").is_none(), "{what}: no data");
    }
    // The good one for contrast.
    let r = app
        .gql(
            &forge(claims(), SECRET.as_bytes()),
            "{ me { sub role agency } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.ok()["me"],
        json!({ "sub": "u1", "role": "POLICE", "agency": "MET" })
    );
}

#[tokio::test]
async fn get_runs_queries_but_refuses_mutations() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Admin, "OPS");
    let get = |q: &str| {
        app.client
            .get(format!("{}/graphql", app.url))
            .query(&[("query", q)])
            .bearer_auth(&token)
            .send()
    };
    let res = get("{ me { role } }").await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["data"]["me"]["role"],
        "ADMIN"
    );
    let before = app.snapshot().await;
    let res = get("mutation { createAgency(input: { code: \"VIA-GET\", name: \"x\", kind: COURT }) { code } }").await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn malformed_requests_get_a_coded_error() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Police, "MET");
    let res = app
        .client
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );
    let r = app.gql(&token, "{ nosuchfield }", json!({})).await;
    r.err("GRAPHQL_VALIDATION_FAILED");
    let r = app
        .gql(&token, "{ order(reference: \"x\") ", json!({}))
        .await;
    r.err("GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn bodies_are_json_bounded_in_size_and_read_only_after_authentication() {
    let app = TestApp::spawn().await.with_agencies().await;
    let token = app.token(Role::Police, "MET");
    let post = |body: Vec<u8>, content_type: &'static str, token: Option<String>| {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let big = format!(
        "{{\"query\": \"{{ me {{ sub }} }}\", \"variables\": {{ \"pad\": \"{}\" }} }}",
        "x".repeat(2 * 1024 * 1024)
    );
    let res = post(
        big.clone().into_bytes(),
        "application/json",
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "PAYLOAD_TOO_LARGE"
    );
    // Without a token the same body is refused as unauthenticated, before it is read.
    let res = post(big.into_bytes(), "application/json", None)
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = post(
        b"query { me { sub } }".to_vec(),
        "application/graphql",
        Some(token.clone()),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    assert_eq!(
        res.json::<Value>().await.unwrap()["errors"][0]["extensions"]["code"],
        "UNSUPPORTED_MEDIA_TYPE"
    );
    let res = post(
        br#"[{"query": "{ me { sub } }"}]"#.to_vec(),
        "application/json; charset=utf-8",
        Some(token),
    )
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 400, "batches are not accepted");
}

#[tokio::test]
async fn health_readiness_and_request_ids() {
    let app = TestApp::spawn().await;
    let h = app.get("/healthz").await;
    assert_eq!(h.status().as_u16(), 200);
    assert!(h.headers().contains_key("x-request-id"));
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    let echoed = app
        .client
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    let replaced = app
        .client
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "not a safe id")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "not a safe id");
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_gone() {
    if !on_postgres() {
        // An SQLite file cannot be made to stop answering from outside; this is checked on PostgreSQL.
        return;
    }
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    let admin = std::env::var("TEST_DATABASE_URL").unwrap();
    let name = app.database_url.rsplit_once('/').unwrap().1.to_string();
    use diesel::prelude::*;
    let mut conn = diesel::PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(app.get("/readyz").await.status().as_u16(), 503);
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
}

/// A PostgreSQL database that answers but refuses writes (a standby after a failover, or one set read-only) is not
/// ready: the probe looks as a new session would.
#[tokio::test]
async fn readiness_fails_while_the_database_refuses_writes() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
    let name = app.database_url.rsplit_once('/').unwrap().1.to_string();
    use diesel::prelude::*;
    // From the server's maintenance database: once read-only, the test database could not be set back itself.
    let mut admin =
        diesel::PgConnection::establish(&std::env::var("TEST_DATABASE_URL").unwrap()).unwrap();
    let read_only =
        |on: &str| format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = {on}");
    diesel::sql_query(read_only("on"))
        .execute(&mut admin)
        .unwrap();
    let res = app.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.json::<Value>().await.unwrap()["database"],
        "writes failing"
    );
    diesel::sql_query(read_only("off"))
        .execute(&mut admin)
        .unwrap();
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);
}

#[tokio::test]
async fn responses_follow_graphql_over_http_content_negotiation_and_status_codes() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Police, "MET");
    let send = |accept: Option<&'static str>, query: &'static str| {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.url))
            .bearer_auth(&token)
            .json(&json!({ "query": query }));
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        req.send()
    };
    let new = "application/graphql-response+json";
    // A valid request: 200 either way, in the media type asked for.
    let ok = send(Some(new), "{ me { role } }").await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert!(ok.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with(new));
    let ok = send(None, "{ me { role } }").await.unwrap();
    assert!(ok.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    // A document that does not validate: 400 without data for the new media type, 200 for application/json.
    let bad = send(Some(new), "{ nosuchfield }").await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(body.get("data").is_none());
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let bad = send(Some("application/json"), "{ nosuchfield }")
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 200);
    // An execution error (a refused operation) is not a request error: 200 with data.
    let refused = send(Some(new), "{ auditEvents { edges { cursor } } }")
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 200);
    // No query at all.
    let none = app
        .client
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 400);
}
