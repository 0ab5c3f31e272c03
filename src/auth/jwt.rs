//! JWT validation and minting (HS256 with the configured secret). The algorithm is pinned, and `exp`, `iss` and `aud`
//! are required; `nbf` is checked when present.
//!
//! Past 400 lines, 120 of them tests: every reason a token is refused is decided here, in one path, and the tests of
//! those reasons sit beside it. Fetching keys from an address is `remote.rs`; reading an issuer's own claims is
//! `claims.rs`.

use super::claims::ClaimMap;
use super::keyfile::{pem_key, Jwks, VerifyKey};
use super::remote::RemoteJwks;
use super::scope::{Scope, SUPERVISOR_SCOPE};
use super::verified::{self, Verified};
use super::{valid_agency_code, Principal, Role};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Shortest HS256 secret accepted, in bytes (RFC 7518 s3.2: at least the hash output size).
pub const MIN_SECRET_LEN: usize = 32;
/// Longest token accepted, in bytes; anything longer is refused before it is parsed.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub agency: String,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    /// Optional: many identity providers omit it, and nothing depends on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Scopes, space-separated (RFC 9068) or, as some identity providers send them, a list; `supervisor` is the
    /// only one read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// The refusal of a token whose key id none of its issuer's keys has (its keys may then be fetched again).
pub const UNKNOWN_KEY: &str = "token key id is not known";

/// The keys one trusted issuer signs with, and where its tokens carry the role and agency if not in orderwatch's
/// own claims.
#[derive(Default)]
pub(super) struct IssuerKeys {
    keys: Vec<VerifyKey>,
    jwks: Option<Jwks>,
    pub(super) remote: Option<Arc<RemoteJwks>>,
    claims: Option<ClaimMap>,
}

impl IssuerKeys {
    /// Changes whenever the keys published for this issuer change (its own keys never do): read before the keys, so
    /// a token verified under keys since replaced is not taken from the cache.
    fn generation(&self) -> u64 {
        self.jwks.as_ref().map_or(0, Jwks::generation)
            + self.remote.as_ref().map_or(0, |r| r.generation())
    }

    /// The keys a token with this header may have been signed with: the issuer's own, and those published (in a
    /// JWKS file or at an address) under the token's key id, or all published ones when it names none.
    fn keys_for(&self, header: &Header) -> Result<Vec<VerifyKey>, String> {
        let mut keys: Vec<VerifyKey> = self.keys.clone();
        let published = match (&self.jwks, &self.remote) {
            (Some(file), _) => Some(file.keys()),
            (None, Some(remote)) => Some(remote.keys()),
            (None, None) => None,
        };
        if let Some(from_jwks) = published {
            match &header.kid {
                Some(kid) => {
                    let matching: Vec<VerifyKey> = from_jwks
                        .into_iter()
                        .filter(|k| k.kid.as_deref() == Some(kid))
                        .collect();
                    if matching.is_empty() && keys.iter().all(|k| k.alg != header.alg) {
                        return Err(UNKNOWN_KEY.into());
                    }
                    keys.extend(matching);
                }
                None => keys.extend(from_jwks),
            }
        }
        Ok(keys)
    }
}

/// Validates tokens from the trusted issuers (each with its own keys) for one audience, and mints development
/// tokens with the HS256 secret. The algorithm is always the one of the key tried: a token cannot choose it.
pub struct JwtKeys {
    pub(super) issuers: std::collections::HashMap<String, IssuerKeys>,
    audience: String,
    leeway: u64,
    /// Issuer and key for minting (HS256), when a secret is configured.
    minting: Option<(String, EncodingKey)>,
    /// Tokens already verified (`verified.rs`).
    pub(super) verified: Verified,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Tokens from `issuer` signed with the HS256 `secret` (and minting with it).
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<JwtKeys, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "ORDERWATCH_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        let mut keys = JwtKeys::none(audience);
        keys.issuers
            .entry(issuer.to_string())
            .or_default()
            .keys
            .push(VerifyKey {
                alg: Algorithm::HS256,
                kid: None,
                key: DecodingKey::from_secret(secret),
            });
        keys.minting = Some((issuer.to_string(), EncodingKey::from_secret(secret)));
        Ok(keys)
    }

    /// No trusted issuer yet.
    pub fn none(audience: &str) -> JwtKeys {
        JwtKeys {
            issuers: Default::default(),
            audience: audience.to_string(),
            leeway: 60,
            minting: None,
            verified: Verified::default(),
        }
    }

    /// Also trust tokens from `issuer` signed with the key in this PEM public key file (RS256, ES256 or EdDSA by the
    /// key's type), or in this JWKS file (a `.json` file: re-read when it changes; `kid` selects the key).
    pub fn trust_file(mut self, issuer: &str, path: &std::path::Path) -> Result<JwtKeys, String> {
        let entry = self.issuers.entry(issuer.to_string()).or_default();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            entry.jwks = Some(Jwks::open(path)?);
        } else {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            entry
                .keys
                .push(pem_key(&pem).map_err(|e| format!("{}: {e}", path.display()))?);
        }
        Ok(self)
    }

    /// Reads the role and the agency of `issuer`'s tokens where `map` says.
    pub fn map_claims(mut self, issuer: &str, map: ClaimMap) -> Result<JwtKeys, String> {
        match self.issuers.get_mut(issuer) {
            Some(entry) => {
                entry.claims = Some(map);
                Ok(self)
            }
            None => Err(format!(
                "ORDERWATCH_JWT_CLAIMS names {issuer}, which is not a trusted issuer"
            )),
        }
    }

    /// Seconds of clock difference allowed on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> JwtKeys {
        self.leeway = seconds;
        self
    }

    /// The principal a bearer token stands for. The error is safe to show a client: it never echoes the token.
    pub fn validate(&self, token: &str) -> Result<Principal, String> {
        self.validate_until(token).map(|(p, _)| p)
    }

    /// The principal, and the moment the token expires (a websocket opened with it is closed then).
    pub fn validate_until(&self, token: &str) -> Result<(Principal, DateTime<Utc>), String> {
        if token.len() > MAX_TOKEN_LEN {
            return Err("token too large".into());
        }
        let digest = verified::digest(token);
        let now = jsonwebtoken::get_current_timestamp();
        let generation = |iss: &str| self.issuers.get(iss).map(IssuerKeys::generation);
        if let Some(hit) = self.verified.get(&digest, now, self.leeway, generation) {
            return Ok(hit);
        }
        // The header names an algorithm and maybe a key id; neither is trusted, both only narrow the search.
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            "token is malformed or uses an algorithm that is not accepted".to_string()
        })?;
        let iss =
            unverified_issuer(token).ok_or_else(|| "token lacks the iss claim".to_string())?;
        let issuer = self
            .issuers
            .get(&iss)
            .ok_or_else(|| "token has the wrong issuer".to_string())?;
        let generation = issuer.generation();
        let keys = issuer.keys_for(&header)?;
        let candidates: Vec<&VerifyKey> = keys.iter().filter(|k| k.alg == header.alg).collect();
        if candidates.is_empty() {
            return Err("token uses an algorithm that is not accepted".into());
        }
        let mut last = String::from("token signature is invalid");
        for key in candidates {
            let mut validation = Validation::new(key.alg);
            validation.set_issuer(&[iss.as_str()]);
            validation.set_audience(&[self.audience.as_str()]);
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            validation.validate_nbf = true;
            validation.leeway = self.leeway;
            let decoded = match &issuer.claims {
                None => decode::<Claims>(token, &key.key, &validation).map(|d| d.claims),
                Some(map) => decode::<serde_json::Value>(token, &key.key, &validation)
                    .map(|d| d.claims)
                    .and_then(|v| super::claims::claims_of(v, map, &iss, &self.audience)),
            };
            match decoded {
                Ok(claims) => {
                    let not_before = claims.nbf;
                    let (principal, expires_at) = principal_of(claims)?;
                    let entry = verified::Entry {
                        principal: principal.clone(),
                        expires_at,
                        not_before,
                        issuer: iss.as_str().into(),
                        generation,
                    };
                    self.verified.insert(digest, entry);
                    return Ok((principal, expires_at));
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind::*;
                    last = match e.kind() {
                        ExpiredSignature => "token expired".to_string(),
                        ImmatureSignature => "token not yet valid".to_string(),
                        InvalidIssuer => "token has the wrong issuer".to_string(),
                        InvalidAudience => "token has the wrong audience".to_string(),
                        MissingRequiredClaim(c) => format!("token lacks the {c} claim"),
                        InvalidSignature => "token signature is invalid".to_string(),
                        InvalidAlgorithm => {
                            "token uses an algorithm that is not accepted".to_string()
                        }
                        // The reasons a mapped token's role or agency could not be read.
                        InvalidClaimFormat(c) if c.starts_with("token ") => c.clone(),
                        _ => "token is malformed or has claims of the wrong type".to_string(),
                    };
                    if last != "token signature is invalid" {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// Mints a token for a principal, valid from `now` for `ttl` (HS256, with the configured secret).
    pub fn mint(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, String> {
        let (issuer, key) = self
            .minting
            .as_ref()
            .ok_or("no ORDERWATCH_JWT_SECRET is configured to mint tokens with")?;
        let claims = Claims {
            sub: principal.sub.clone(),
            role: principal.role,
            agency: principal.agency.clone(),
            iss: issuer.clone(),
            aud: self.audience.clone(),
            iat: Some(now.timestamp()),
            nbf: Some(now.timestamp()),
            exp: (now + ttl).timestamp(),
            scope: principal
                .supervisor
                .then(|| Scope::Spaced(SUPERVISOR_SCOPE.to_string())),
        };
        encode(&Header::new(Algorithm::HS256), &claims, key)
            .map_err(|e| format!("could not sign token: {e}"))
    }
}

/// The `iss` claim of a token not yet verified: it only chooses whose keys to try; the signature and every claim are
/// then checked.
pub(super) fn unverified_issuer(token: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Unverified {
        iss: Option<String>,
    }
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, p).ok()
        })
        .and_then(|b| serde_json::from_slice::<Unverified>(&b).ok())
        .and_then(|u| u.iss)
}

fn principal_of(c: Claims) -> Result<(Principal, DateTime<Utc>), String> {
    if c.sub.trim().is_empty() || c.sub.len() > 128 {
        return Err("token sub claim must be 1 to 128 characters".into());
    }
    if !valid_agency_code(&c.agency) {
        return Err("token agency claim is not a valid agency code".into());
    }
    let expires_at =
        DateTime::<Utc>::from_timestamp(c.exp, 0).ok_or("token exp is out of range")?;
    Ok((
        Principal {
            // The scope means something only in a police officer's token.
            supervisor: super::policy::may_hold_supervisor_scope(c.role)
                && c.scope.as_ref().is_some_and(Scope::has_supervisor),
            sub: c.sub,
            role: c.role,
            agency: c.agency,
        },
        expires_at,
    ))
}

/// Parses a token lifetime such as `8h`, `30m`, `2d` or `3600s` (at most 30 days).
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let err =
        || format!("invalid --ttl {s:?}: use a number with s, m, h or d, e.g. 8h (at most 30d)");
    let (num, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| err())?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(err()),
    };
    if n <= 0 || d > Duration::days(30) {
        return Err(err());
    }
    Ok(d)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Keys with a test secret, for the tests here and in `verified.rs`.
    pub(in crate::auth) fn keys() -> JwtKeys {
        JwtKeys::hs256(&[7u8; 32], "orderwatch", "orderwatch").unwrap()
    }
    pub(in crate::auth) fn principal() -> Principal {
        Principal {
            sub: "officer-1".into(),
            role: Role::Police,
            agency: "MET".into(),
            supervisor: false,
        }
    }

    #[test]
    fn a_minted_token_validates_to_its_principal() {
        let t = keys()
            .mint(&principal(), Utc::now(), Duration::hours(1))
            .unwrap();
        assert_eq!(keys().validate(&t).unwrap(), principal());
    }

    #[test]
    fn expired_wrong_issuer_and_wrong_key_tokens_are_rejected() {
        let k = keys();
        let old = k
            .mint(
                &principal(),
                Utc::now() - Duration::hours(3),
                Duration::hours(1),
            )
            .unwrap();
        assert_eq!(k.validate(&old).unwrap_err(), "token expired");
        let other = JwtKeys::hs256(&[7u8; 32], "someone-else", "orderwatch").unwrap();
        let t = other
            .mint(&principal(), Utc::now(), Duration::hours(1))
            .unwrap();
        assert_eq!(k.validate(&t).unwrap_err(), "token has the wrong issuer");
        let other_key = JwtKeys::hs256(&[8u8; 32], "orderwatch", "orderwatch").unwrap();
        let t = other_key
            .mint(&principal(), Utc::now(), Duration::hours(1))
            .unwrap();
        assert_eq!(k.validate(&t).unwrap_err(), "token signature is invalid");
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(JwtKeys::hs256(b"short", "i", "a").is_err());
    }

    #[test]
    fn ttls_parse_with_units_and_bounds() {
        assert_eq!(parse_ttl("8h").unwrap(), Duration::hours(8));
        assert_eq!(parse_ttl("90s").unwrap(), Duration::seconds(90));
        assert!(parse_ttl("31d").is_err());
        assert!(parse_ttl("0h").is_err());
        assert!(parse_ttl("8").is_err());
        assert!(parse_ttl("").is_err());
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn path(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    fn claims(iss: &str) -> serde_json::Value {
        let now = Utc::now().timestamp();
        serde_json::json!({ "sub": "u", "role": "POLICE", "agency": "MET", "iss": iss, "aud": "ow", "exp": now + 60 })
    }

    #[test]
    fn each_refusal_says_why_without_echoing_the_token() {
        let keys = JwtKeys::none("ow")
            .trust_file("court", &path("rsa-public.pem"))
            .unwrap()
            .trust_file("police", &path("jwks.json"))
            .unwrap();
        let rsa =
            EncodingKey::from_rsa_pem(&std::fs::read(path("rsa-private.pem")).unwrap()).unwrap();
        let public_as_secret =
            EncodingKey::from_secret(&std::fs::read(path("rsa-public.pem")).unwrap());
        let confused = encode(
            &Header::new(Algorithm::HS256),
            &claims("court"),
            &public_as_secret,
        )
        .unwrap();
        assert_eq!(
            keys.validate(&confused).unwrap_err(),
            "token uses an algorithm that is not accepted"
        );
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("nobody".into());
        let unknown_kid = encode(&h, &claims("police"), &rsa).unwrap();
        assert_eq!(
            keys.validate(&unknown_kid).unwrap_err(),
            "token key id is not known"
        );
        let good = encode(&Header::new(Algorithm::RS256), &claims("court"), &rsa).unwrap();
        assert_eq!(keys.validate(&good).unwrap().agency, "MET");
        let stranger = encode(&Header::new(Algorithm::RS256), &claims("elsewhere"), &rsa).unwrap();
        assert_eq!(
            keys.validate(&stranger).unwrap_err(),
            "token has the wrong issuer"
        );
        assert!(pem_key(b"not a key").is_err());
    }
}
