//! JWT validation and minting (HS256 with the configured secret). The algorithm is pinned, and `exp`, `iss` and `aud`
//! are required; `nbf` is checked when present.

use super::{valid_agency_code, Principal, Role};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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
    pub iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// Validates and mints tokens for one issuer and audience.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Result<JwtKeys, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "ORDERWATCH_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 60;
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        })
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
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind::*;
            match e.kind() {
                ExpiredSignature => "token expired".to_string(),
                ImmatureSignature => "token not yet valid".to_string(),
                InvalidIssuer => "token has the wrong issuer".to_string(),
                InvalidAudience => "token has the wrong audience".to_string(),
                MissingRequiredClaim(c) => format!("token lacks the {c} claim"),
                InvalidSignature => "token signature is invalid".to_string(),
                InvalidAlgorithm => "token uses an algorithm that is not accepted".to_string(),
                _ => "token is malformed or has claims of the wrong type".to_string(),
            }
        })?;
        let c = data.claims;
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
                sub: c.sub,
                role: c.role,
                agency: c.agency,
            },
            expires_at,
        ))
    }

    /// Mints a token for a principal, valid from `now` for `ttl`.
    pub fn mint(
        &self,
        principal: &Principal,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, String> {
        let claims = Claims {
            sub: principal.sub.clone(),
            role: principal.role,
            agency: principal.agency.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            nbf: Some(now.timestamp()),
            exp: (now + ttl).timestamp(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("could not sign token: {e}"))
    }
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
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::hs256(&[7u8; 32], "orderwatch", "orderwatch").unwrap()
    }
    fn principal() -> Principal {
        Principal {
            sub: "officer-1".into(),
            role: Role::Police,
            agency: "MET".into(),
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
