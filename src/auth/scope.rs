//! The token's `scope` claim: space-separated (RFC 8693 s4.2, RFC 9068 s2.2.3) or, as some identity providers send
//! it, a list. Only [`SUPERVISOR_SCOPE`] means anything here; other values are ignored.

use serde::{Deserialize, Serialize};

/// The scope that marks a police supervisor, who may read the force's own statistics.
pub const SUPERVISOR_SCOPE: &str = "supervisor";

/// A `scope` claim in either shape identity providers use.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scope {
    Spaced(String),
    List(Vec<String>),
}

impl Scope {
    /// Whether the scopes include [`SUPERVISOR_SCOPE`].
    pub fn has_supervisor(&self) -> bool {
        match self {
            Scope::Spaced(s) => s.split_ascii_whitespace().any(|v| v == SUPERVISOR_SCOPE),
            Scope::List(l) => l.iter().any(|v| v == SUPERVISOR_SCOPE),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::jwt::JwtKeys;
    use crate::auth::{Principal, Role};
    use chrono::{Duration, Utc};
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

    fn claims() -> serde_json::Value {
        let exp = Utc::now().timestamp() + 60;
        serde_json::json!({ "sub": "u", "role": "POLICE", "agency": "MET", "iss": "orderwatch", "aud": "orderwatch", "exp": exp })
    }

    #[test]
    fn the_supervisory_scope_is_read_from_a_spaced_string_or_a_list_and_nothing_else() {
        let k = JwtKeys::hs256(&[7u8; 32], "orderwatch", "orderwatch").unwrap();
        let secret = EncodingKey::from_secret(&[7u8; 32]);
        let cases = [
            (serde_json::json!("openid supervisor"), true),
            (serde_json::json!(["profile", "supervisor"]), true),
            (serde_json::json!("supervisors"), false),
            (serde_json::json!("openid"), false),
            (serde_json::json!([]), false),
        ];
        for (scope, supervisor) in cases {
            let mut c = claims();
            c["scope"] = scope.clone();
            let t = encode(&Header::new(Algorithm::HS256), &c, &secret).unwrap();
            assert_eq!(k.validate(&t).unwrap().supervisor, supervisor, "{scope}");
        }
        let mut c = claims();
        c["scope"] = serde_json::json!(7);
        let t = encode(&Header::new(Algorithm::HS256), &c, &secret).unwrap();
        assert_eq!(
            k.validate(&t).unwrap_err(),
            "token is malformed or has claims of the wrong type"
        );
        let supervisor = Principal {
            sub: "sgt-1".into(),
            role: Role::Police,
            agency: "MET".into(),
            supervisor: true,
        };
        let t = k.mint(&supervisor, Utc::now(), Duration::hours(1)).unwrap();
        assert_eq!(k.validate(&t).unwrap(), supervisor);
    }
}
