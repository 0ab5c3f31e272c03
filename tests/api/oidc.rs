//! Identity providers' keys fetched over HTTP: found through OpenID Connect discovery or at a JWKS address served
//! by the test, fetched again when a token names a new key id (the provider rotated), never more than once per bound
//! for key ids nobody publishes; and a provider's own claims mapped to orderwatch's role and agency.

use crate::helpers::*;
use actix_web::{web, App, HttpResponse, HttpServer};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const POLICE: &str = "https://idp.police.test/realms/met";

fn key(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The test's identity provider: a discovery document and a JWKS (kept an hour, as its header says), counting the
/// JWKS fetches.
struct Provider {
    url: String,
    jwks: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

impl Provider {
    async fn start(kids: &[&str]) -> Provider {
        let jwks = Arc::new(Mutex::new(Value::Null));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (served, counted, base) = (jwks.clone(), fetches.clone(), url.clone());
        let server = HttpServer::new(move || {
            let (served, counted, base) = (served.clone(), counted.clone(), base.clone());
            App::new()
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(move || {
                        let base = base.clone();
                        async move {
                            HttpResponse::Ok().json(
                                json!({ "issuer": POLICE, "jwks_uri": format!("{base}/jwks") }),
                            )
                        }
                    }),
                )
                .route(
                    "/jwks",
                    web::get().to(move || {
                        let (served, counted) = (served.clone(), counted.clone());
                        async move {
                            counted.fetch_add(1, Ordering::SeqCst);
                            let doc = served.lock().unwrap().clone();
                            HttpResponse::Ok()
                                .insert_header(("cache-control", "public, max-age=3600"))
                                .json(doc)
                        }
                    }),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        let provider = Provider { url, jwks, fetches };
        provider.publish(kids);
        provider
    }

    /// Publishes the test RSA key under each of `kids` (a rotation publishes the new id beside the old).
    fn publish(&self, kids: &[&str]) {
        let template: Value =
            serde_json::from_str(&std::fs::read_to_string(key("jwks.json")).unwrap()).unwrap();
        let keys: Vec<Value> = kids
            .iter()
            .map(|kid| {
                let mut k = template["keys"][0].clone();
                k["kid"] = json!(kid);
                k
            })
            .collect();
        // As Keycloak does, an encryption key beside the signing keys: left out, never refused for.
        let mut keys = keys;
        let mut enc = template["keys"][0].clone();
        enc["kid"] = json!("enc-1");
        enc["use"] = json!("enc");
        enc["alg"] = json!("RSA-OAEP");
        keys.push(enc);
        *self.jwks.lock().unwrap() = json!({ "keys": keys });
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn sign(kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_string());
    let pem = std::fs::read(key("rsa-private.pem")).unwrap();
    encode(&header, claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
}

fn claims(extra: Value) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({ "sub": "officer-7", "iss": POLICE, "aud": "orderwatch", "iat": now, "exp": now + 600 });
    c.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    c
}

/// The status and `me` (or the refusal's message) for a token.
async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    let r = app
        .post_raw(
            Some(token),
            json!({ "query": "{ me { sub role agency } }" }),
        )
        .await;
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let answer = if status == 200 {
        body["data"]["me"].clone()
    } else {
        body["errors"][0]["message"].clone()
    };
    (status, answer)
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_key_ids_cause_no_refresh_storm() {
    let provider = Provider::start(&["met-2026-1"]).await;
    let discovery = format!("{}/.well-known/openid-configuration", provider.url);
    let app = TestApp::spawn_with(|s| {
        s.jwt_trusted_issuers = format!("{POLICE}={discovery}");
        // Long: within the test, one fetch for an unknown key id at most.
        s.jwt_jwks_min_refresh_secs = 3_600;
    })
    .await;
    let standard = json!({ "role": "POLICE", "agency": "MET" });
    let (status, who) = me(&app, &sign("met-2026-1", &claims(standard.clone()))).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["agency"], "MET");
    assert_eq!(
        provider.fetches(),
        1,
        "fetched once, through discovery, at start-up"
    );

    // The provider rotates: the new key id is published beside the old; a token signed under it is accepted after
    // one fetch.
    provider.publish(&["met-2026-1", "met-2026-2"]);
    let (status, _) = me(&app, &sign("met-2026-2", &claims(standard.clone()))).await;
    assert_eq!(status, 200);
    assert_eq!(provider.fetches(), 2);

    // Key ids nobody publishes: refused, with no further fetch however many arrive.
    for i in 0..20 {
        let (status, why) = me(
            &app,
            &sign(&format!("made-up-{i}"), &claims(standard.clone())),
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(why, "token key id is not known");
    }
    assert_eq!(provider.fetches(), 2, "no refresh storm");
    // The published encryption key signs nothing.
    let (status, _) = me(&app, &sign("enc-1", &claims(standard.clone()))).await;
    assert_eq!(status, 401);
    // The keys held still work.
    assert_eq!(
        me(&app, &sign("met-2026-1", &claims(standard))).await.0,
        200
    );
}

#[tokio::test]
async fn a_token_verified_before_its_key_was_withdrawn_is_refused_after() {
    let provider = Provider::start(&["met-2026-1"]).await;
    let jwks = format!("{}/jwks", provider.url);
    let app = TestApp::spawn_with(|s| {
        s.jwt_trusted_issuers = format!("{POLICE}={jwks}");
        // Every token naming a key id not held fetches the keys again.
        s.jwt_jwks_min_refresh_secs = 0;
    })
    .await;
    let standard = json!({ "role": "POLICE", "agency": "MET" });
    let old = sign("met-2026-1", &claims(standard.clone()));
    // Verified, then kept as verified for the next request with the same token.
    assert_eq!(me(&app, &old).await.0, 200);
    assert_eq!(me(&app, &old).await.0, 200);

    // The provider withdraws the key (compromised, say); a token under the new key makes the server fetch again.
    provider.publish(&["met-2026-2"]);
    assert_eq!(
        me(&app, &sign("met-2026-2", &claims(standard))).await.0,
        200
    );

    // The old token was verified under keys since replaced: it is checked again, and refused.
    let (status, why) = me(&app, &old).await;
    assert_eq!(status, 401);
    assert_eq!(why, "token key id is not known");
}

#[tokio::test]
async fn a_providers_own_role_and_agency_claims_are_mapped_per_issuer() {
    let provider = Provider::start(&["met-2026-1"]).await;
    let jwks = format!("{}/jwks", provider.url);
    let app = TestApp::spawn_with(|s| {
        s.jwt_trusted_issuers = format!("{POLICE}={jwks}");
        s.jwt_claims = format!("{POLICE}=role:realm_access.roles,rolePrefix:orderwatch-,agency:ow_agency,roles:POLICE|ADVOCATE,agencies:MET|ADV-A");
    })
    .await;
    let keycloak = |roles: Value, agency: Value| {
        sign(
            "met-2026-1",
            &claims(json!({ "realm_access": { "roles": roles }, "ow_agency": agency })),
        )
    };
    let (status, who) = me(
        &app,
        &keycloak(json!(["offline_access", "orderwatch-police"]), json!("MET")),
    )
    .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(
        who,
        json!({ "sub": "officer-7", "role": "POLICE", "agency": "MET" })
    );

    for (roles, agency, why) in [
        (
            json!(["orderwatch-police", "orderwatch-admin"]),
            json!("MET"),
            "token carries more than one orderwatch role",
        ),
        (
            json!(["police"]),
            json!("MET"),
            "token carries no orderwatch role",
        ),
        (
            json!(["orderwatch-police"]),
            json!(["MET", "GMP"]),
            "token carries more than one agency",
        ),
        (
            json!(["orderwatch-police"]),
            json!("not an agency code!"),
            "token carries an agency its issuer may not speak for",
        ),
        // A force's provider is not trusted for ADMIN, whatever its realm calls a role, nor for another force.
        (
            json!(["orderwatch-admin"]),
            json!("MET"),
            "token carries a role its issuer may not grant",
        ),
        (
            json!(["orderwatch-police"]),
            json!("GMP"),
            "token carries an agency its issuer may not speak for",
        ),
    ] {
        let (status, answer) = me(&app, &keycloak(roles, agency)).await;
        assert_eq!((status, answer), (401, json!(why)));
    }
    // orderwatch's own claims mean nothing for this issuer.
    let own = sign(
        "met-2026-1",
        &claims(json!({ "role": "POLICE", "agency": "MET" })),
    );
    assert_eq!(
        me(&app, &own).await,
        (401, json!("token carries no orderwatch role"))
    );
}
