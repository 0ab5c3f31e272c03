//! JWT keys for real deployments: RS256, ES256 and EdDSA from PEM files and a JWKS, several issuers, and every
//! hostile token refused over HTTP and over the websocket.

use crate::helpers::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

fn key(name: &str) -> String {
    format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}
fn pem(name: &str) -> Vec<u8> {
    std::fs::read(key(name)).unwrap()
}

const COURTS: &str = "https://idp.courts.test";
const POLICE: &str = "https://idp.police.test";
const EC: &str = "https://idp.ec.test";
const ED: &str = "https://idp.ed.test";

async fn app_with_issuers(jwks: &str, leeway: u64) -> TestApp {
    let trusted = format!(
        "{COURTS}={},{POLICE}={jwks},{EC}={},{ED}={}",
        key("rsa-public.pem"),
        key("ec-public.pem"),
        key("ed-public.pem")
    );
    TestApp::spawn_with(|s| {
        s.jwt_trusted_issuers = trusted;
        s.jwt_leeway = leeway;
    })
    .await
}

fn claims(iss: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "u1", "role": "POLICE", "agency": "MET", "iss": iss, "aud": "orderwatch", "iat": now, "exp": now + 600 })
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value, private: &str) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem(private)).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem(private)).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem(private)).unwrap(),
        _ => EncodingKey::from_secret(&pem(private)),
    };
    encode(&header, claims, &key).unwrap()
}

fn unsigned(header: Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.post_raw(Some(token), json!({ "query": "{ me { sub role } }" }))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn tokens_signed_with_each_issuers_own_keys_are_accepted() {
    let app = app_with_issuers(&key("jwks.json"), 60).await;
    let good = [
        (
            "RS256 from a PEM key",
            sign(Algorithm::RS256, None, &claims(COURTS), "rsa-private.pem"),
        ),
        (
            "RS256 from a JWKS, by kid",
            sign(
                Algorithm::RS256,
                Some("police-2026-1"),
                &claims(POLICE),
                "rsa-private.pem",
            ),
        ),
        (
            "ES256",
            sign(Algorithm::ES256, None, &claims(EC), "ec-private.pem"),
        ),
        (
            "EdDSA",
            sign(Algorithm::EdDSA, None, &claims(ED), "ed-private.pem"),
        ),
        (
            "HS256 from the configured secret",
            app.token(orderwatch::auth::Role::Police, "MET"),
        ),
    ];
    for (what, token) in good {
        assert_eq!(status(&app, &token).await, 200, "{what}");
    }
    // Within the leeway, an expired token still passes; beyond it, it does not.
    let mut c = claims(COURTS);
    c["exp"] = json!(chrono::Utc::now().timestamp() - 30);
    assert_eq!(
        status(&app, &sign(Algorithm::RS256, None, &c, "rsa-private.pem")).await,
        200
    );
    let strict = app_with_issuers(&key("jwks.json"), 0).await;
    assert_eq!(
        status(
            &strict,
            &sign(Algorithm::RS256, None, &c, "rsa-private.pem")
        )
        .await,
        401
    );
}

#[tokio::test]
async fn every_hostile_token_is_refused_over_http_and_the_websocket() {
    let app = app_with_issuers(&key("jwks.json"), 60).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims(COURTS);
        f(&mut c);
        sign(Algorithm::RS256, None, &c, "rsa-private.pem")
    };
    let now = chrono::Utc::now().timestamp();
    let mut hostile: Vec<(&str, String)> = vec![];
    for alg in ["none", "None", "NONE", "nOnE"] {
        hostile.push((
            "alg none",
            unsigned(json!({ "alg": alg, "typ": "JWT" }), &claims(COURTS)),
        ));
    }
    // The classic confusion: HS256 "signed" with the issuer's RSA public key as the secret.
    hostile.push((
        "HS256 with the RSA public key",
        sign(Algorithm::HS256, None, &claims(COURTS), "rsa-public.pem"),
    ));
    hostile.push((
        "RS256 for an ES256 issuer",
        sign(Algorithm::RS256, None, &claims(EC), "rsa-private.pem"),
    ));
    let good = sign(Algorithm::RS256, None, &claims(COURTS), "rsa-private.pem");
    let parts: Vec<&str> = good.split('.').collect();
    let mut forged = claims(COURTS);
    forged["role"] = json!("ADMIN");
    hostile.push((
        "a changed payload",
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(forged.to_string()),
            parts[2]
        ),
    ));
    hostile.push((
        "an unknown kid",
        sign(
            Algorithm::RS256,
            Some("nobody"),
            &claims(POLICE),
            "rsa-private.pem",
        ),
    ));
    hostile.push(("expired", with(&|c| c["exp"] = json!(now - 3600))));
    hostile.push(("not yet valid", with(&|c| c["nbf"] = json!(now + 3600))));
    hostile.push((
        "an unknown issuer",
        with(&|c| c["iss"] = json!("https://evil.test")),
    ));
    hostile.push((
        "no issuer",
        with(&|c| {
            c.as_object_mut().unwrap().remove("iss");
        }),
    ));
    hostile.push((
        "the wrong audience",
        with(&|c| c["aud"] = json!("someone-else")),
    ));
    hostile.push((
        "no audience",
        with(&|c| {
            c.as_object_mut().unwrap().remove("aud");
        }),
    ));
    hostile.push((
        "no exp",
        with(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        }),
    ));
    hostile.push((
        "no role",
        with(&|c| {
            c.as_object_mut().unwrap().remove("role");
        }),
    ));
    hostile.push(("an unknown role", with(&|c| c["role"] = json!("ROOT"))));
    hostile.push((
        "role as an array",
        with(&|c| c["role"] = json!(["POLICE", "ADMIN"])),
    ));
    hostile.push((
        "exp as a string",
        with(&|c| c["exp"] = json!((now + 600).to_string())),
    ));
    hostile.push(("oversized", with(&|c| c["pad"] = json!("x".repeat(10_000)))));
    for (what, token) in &hostile {
        assert_eq!(status(&app, token).await, 401, "{what} over HTTP");
    }
    for (what, token) in &hostile {
        let mut ws = app.ws().await;
        ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } })).await;
        assert_eq!(ws.closed().await.0, 4403, "{what} over the websocket");
    }
}

#[tokio::test]
async fn a_changed_jwks_file_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("police.json");
    let mut jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(key("jwks.json")).unwrap()).unwrap();
    jwks["keys"][0]["kid"] = json!("police-2025-9");
    std::fs::write(&path, jwks.to_string()).unwrap();
    let app = app_with_issuers(path.to_str().unwrap(), 60).await;
    let token = sign(
        Algorithm::RS256,
        Some("police-2026-1"),
        &claims(POLICE),
        "rsa-private.pem",
    );
    assert_eq!(status(&app, &token).await, 401, "not yet published");
    // The issuer rotates: the new key id is published in the same file.
    jwks["keys"][0]["kid"] = json!("police-2026-1");
    std::fs::write(&path, jwks.to_string()).unwrap();
    // The file is looked at again at most once a second.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(status(&app, &token).await, 200);
}
