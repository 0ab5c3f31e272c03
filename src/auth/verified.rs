//! Tokens already verified, so that a caller's next request with the same token skips the signature and the claims:
//! a client sends one token for many requests, and each verification parses the token three times, builds a
//! `Validation`, clones the issuer's keys and checks a signature (an RSA or ECDSA one costs tens of microseconds).
//!
//! A hit answers exactly what verifying again would, or is ignored:
//! - entries are keyed by the token's SHA-256, so only the very same token finds one (and no token is kept);
//! - a hit still checks `exp` against the clock with the same leeway;
//! - each entry keeps the generation of its issuer's keys it was verified under; when the keys change (a JWKS file
//!   re-read, keys fetched again from an address) the entry no longer counts, and the token is verified afresh;
//! - a hit checks `nbf` again too, in case the clock was set back;
//! - only tokens that passed every check are kept; a refusal is decided in full every time
//!   (docs/decisions/0016-verified-tokens-kept.md).

use super::Principal;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Tokens kept at most. An entry takes about 120 bytes with a short subject (heaptrack), a few hundred at most; past
/// the bound the least used are dropped (quick_cache's S3-FIFO), and a dropped token is only verified again.
pub const VERIFIED_TOKENS: usize = 4_096;

/// What a verified token stood for, and under which keys.
pub(super) struct Entry {
    pub principal: Principal,
    pub expires_at: DateTime<Utc>,
    /// The token's `nbf`, if it has one (Unix seconds).
    pub not_before: Option<i64>,
    /// The issuer whose keys verified it.
    pub issuer: Box<str>,
    /// That issuer's key generation, read before the token was verified.
    pub generation: u64,
}

/// The cache of verified tokens (see the module's comment).
pub(super) struct Verified {
    cache: quick_cache::sync::Cache<[u8; 32], Arc<Entry>>,
}

impl Default for Verified {
    fn default() -> Self {
        Verified {
            cache: quick_cache::sync::Cache::new(VERIFIED_TOKENS),
        }
    }
}

/// A token's key in the cache.
pub(super) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Verified {
    /// The principal and expiry of the token with this digest, if it was verified under its issuer's current keys
    /// (`generation` gives an issuer's current generation, `None` for an issuer no longer trusted) and has not
    /// expired at `now` (Unix seconds) allowing `leeway` seconds.
    pub(super) fn get(
        &self,
        digest: &[u8; 32],
        now: u64,
        leeway: u64,
        generation: impl FnOnce(&str) -> Option<u64>,
    ) -> Option<(Principal, DateTime<Utc>)> {
        let entry = self.cache.get(digest)?;
        // As jsonwebtoken decides: expired when `exp` is before `now - leeway`.
        let exp = u64::try_from(entry.expires_at.timestamp()).ok()?;
        if exp < now.saturating_sub(leeway) {
            self.cache.remove(digest);
            return None;
        }
        // As jsonwebtoken decides: not yet valid when `nbf` is after `now + leeway`.
        if let Some(nbf) = entry.not_before {
            if u64::try_from(nbf).map_or(true, |nbf| nbf > now.saturating_add(leeway)) {
                return None;
            }
        }
        if generation(&entry.issuer) != Some(entry.generation) {
            self.cache.remove(digest);
            return None;
        }
        Some((entry.principal.clone(), entry.expires_at))
    }

    /// Keeps a token that passed every check, under the key generation read before the check.
    pub(super) fn insert(&self, digest: [u8; 32], entry: Entry) {
        self.cache.insert(digest, Arc::new(entry));
    }

    /// Tokens kept now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::tests::{keys, principal};

    #[test]
    fn a_token_verified_once_is_answered_from_the_cache_with_the_same_principal() {
        let keys = keys();
        let token = keys
            .mint(&principal(), Utc::now(), chrono::Duration::hours(1))
            .unwrap();
        let first = keys.validate_until(&token).unwrap();
        assert_eq!(keys.verified.len(), 1);
        assert_eq!(keys.validate_until(&token).unwrap(), first);
        assert_eq!(first.0, principal());
        // A token whose signature was tampered with is not the same token: refused in full.
        let mut forged = token.clone();
        forged.pop();
        forged.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.validate_until(&forged).is_err());
        assert_eq!(keys.verified.len(), 1, "refusals are not kept");
    }

    #[test]
    fn an_entry_past_its_expiry_or_under_other_keys_is_not_answered() {
        let cache = Verified::default();
        let entry = |not_before| Entry {
            principal: principal(),
            expires_at: DateTime::<Utc>::from_timestamp(1_000_000, 0).unwrap(),
            not_before,
            issuer: "police-idp".into(),
            generation: 3,
        };
        let key = digest("a token");
        cache.insert(key, entry(None));
        let current = |iss: &str| (iss == "police-idp").then_some(3);
        // Within the leeway after `exp`, as jsonwebtoken allows.
        assert!(cache.get(&key, 1_000_060, 60, current).is_some());
        assert!(cache.get(&key, 1_000_061, 60, current).is_none(), "expired");
        assert!(
            cache.get(&key, 1_000_000, 60, current).is_none(),
            "an expired entry is dropped"
        );

        cache.insert(key, entry(None));
        assert!(
            cache.get(&key, 999_000, 60, |_| Some(4)).is_none(),
            "keys replaced"
        );
        cache.insert(key, entry(None));
        assert!(
            cache.get(&key, 999_000, 60, |_| None).is_none(),
            "issuer no longer trusted"
        );
        assert!(cache
            .get(&digest("another token"), 999_000, 60, current)
            .is_none());

        // A clock set back to before the token's `nbf`, past the leeway.
        cache.insert(key, entry(Some(990_000)));
        assert!(cache.get(&key, 989_940, 60, current).is_some());
        assert!(
            cache.get(&key, 989_939, 60, current).is_none(),
            "not yet valid"
        );
    }
}
