//! The public keys tokens from other issuers are verified with: a PEM public key file (its algorithm from its type)
//! or a JWKS file, re-read when it changes.

use jsonwebtoken::{Algorithm, DecodingKey};

/// A key a token may be verified with, and the one algorithm it verifies.
#[derive(Clone)]
pub(super) struct VerifyKey {
    pub alg: Algorithm,
    pub kid: Option<String>,
    pub key: DecodingKey,
}

/// A JWKS file, re-read when it changes (checked at most once a second).
pub(super) struct Jwks {
    path: std::path::PathBuf,
    state: std::sync::Mutex<FileState>,
}

/// A JWKS file's keys as last read.
struct FileState {
    /// When the file's modification time was last looked at.
    checked: std::time::Instant,
    mtime: Option<std::time::SystemTime>,
    keys: Vec<VerifyKey>,
    /// Times the keys were read again: a token verified under other keys is verified afresh (`verified.rs`).
    generation: u64,
}

impl Jwks {
    /// The keys of the JWKS file at `path`, kept with the file's modification time.
    pub fn open(path: &std::path::Path) -> Result<Jwks, String> {
        let keys = Jwks::load(path)?;
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        Ok(Jwks {
            path: path.to_path_buf(),
            state: std::sync::Mutex::new(FileState {
                checked: std::time::Instant::now(),
                mtime,
                keys,
                generation: 0,
            }),
        })
    }

    fn load(path: &std::path::Path) -> Result<Vec<VerifyKey>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        jwks_keys(&text, &path.display().to_string())
    }

    /// The current keys, re-read first when the file changed (checked at most once a second).
    pub fn keys(&self) -> Vec<VerifyKey> {
        self.current().keys.clone()
    }

    /// How many times the keys were read again, after the same check as [`Jwks::keys`].
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// The keys as last read, re-read first when the file changed (checked at most once a second).
    fn current(&self) -> std::sync::MutexGuard<'_, FileState> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.checked.elapsed() >= std::time::Duration::from_secs(1) {
            state.checked = std::time::Instant::now();
            let mtime = std::fs::metadata(&self.path)
                .and_then(|m| m.modified())
                .ok();
            if mtime != state.mtime {
                match Jwks::load(&self.path) {
                    Ok(keys) => {
                        tracing::info!(jwks.keys = keys.len(), "JWKS reloaded");
                        state.mtime = mtime;
                        state.keys = keys;
                        state.generation += 1;
                    }
                    // Keep the keys we had: a half-written file must not lock everyone out.
                    Err(e) => {
                        tracing::warn!(error = %e, "JWKS could not be reloaded; keeping the previous keys")
                    }
                }
            }
        }
        state
    }
}

/// The signing keys of a JWKS document (`label` names where it came from, in errors and logs): RS256, ES256 and
/// EdDSA keys. Others (an encryption key, `use: "enc"`, which Keycloak publishes beside its signing key; another
/// algorithm; a key this library cannot read) are left out; a document with no key left is refused.
pub(super) fn jwks_keys(text: &str, label: &str) -> Result<Vec<VerifyKey>, String> {
    #[derive(serde::Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_str(text).map_err(|e| format!("{label}: not a JWKS: {e}"))?;
    let mut keys = vec![];
    let mut left_out = 0;
    for raw in set.keys {
        let signing = raw
            .get("use")
            .and_then(serde_json::Value::as_str)
            .is_none_or(|u| u == "sig");
        let key = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(raw)
            .ok()
            .filter(|_| signing)
            .and_then(|jwk| verify_key(&jwk));
        match key {
            Some(k) => keys.push(k),
            None => left_out += 1,
        }
    }
    if left_out > 0 {
        tracing::info!(jwks.left_out = left_out, jwks.source = %label, "JWKS keys that do not sign with RS256, ES256 or EdDSA were left out");
    }
    if keys.is_empty() {
        return Err(format!("{label}: no RS256, ES256 or EdDSA signing key"));
    }
    Ok(keys)
}

/// The key a JWK verifies with, if it is an RS256, ES256 or EdDSA key.
fn verify_key(jwk: &jsonwebtoken::jwk::Jwk) -> Option<VerifyKey> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    let alg = match (&jwk.common.key_algorithm, &jwk.algorithm) {
        (Some(KeyAlgorithm::RS256), AlgorithmParameters::RSA(_))
        | (None, AlgorithmParameters::RSA(_)) => Algorithm::RS256,
        (Some(KeyAlgorithm::ES256), AlgorithmParameters::EllipticCurve(_))
        | (None, AlgorithmParameters::EllipticCurve(_)) => Algorithm::ES256,
        (Some(KeyAlgorithm::EdDSA), AlgorithmParameters::OctetKeyPair(p))
        | (None, AlgorithmParameters::OctetKeyPair(p))
            if p.curve == EllipticCurve::Ed25519 =>
        {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    Some(VerifyKey {
        alg,
        kid: jwk.common.key_id.clone(),
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

type PemLoader = fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>;

/// The algorithm a PEM public key verifies, from its type.
pub(super) fn pem_key(pem: &[u8]) -> Result<VerifyKey, String> {
    let text = String::from_utf8_lossy(pem);
    let attempts: [(Algorithm, PemLoader); 3] = [
        (Algorithm::RS256, DecodingKey::from_rsa_pem),
        (Algorithm::ES256, DecodingKey::from_ec_pem),
        (Algorithm::EdDSA, DecodingKey::from_ed_pem),
    ];
    if !text.contains("PUBLIC KEY") {
        return Err("expected a PEM public key (-----BEGIN PUBLIC KEY-----)".into());
    }
    for (alg, load) in attempts {
        if let Ok(key) = load(pem) {
            // from_*_pem accept any PUBLIC KEY block; check the key really is of that type by its OID.
            let der = text
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>();
            let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, der)
                .unwrap_or_default();
            let oid_rsa: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
            let oid_ec: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
            let oid_ed: &[u8] = &[0x2b, 0x65, 0x70];
            let wanted = match alg {
                Algorithm::RS256 => oid_rsa,
                Algorithm::ES256 => oid_ec,
                _ => oid_ed,
            };
            if der.windows(wanted.len()).any(|w| w == wanted) {
                return Ok(VerifyKey {
                    alg,
                    kid: None,
                    key,
                });
            }
        }
    }
    Err("the PEM key is not an RSA, P-256 or Ed25519 public key".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name)
    }

    #[test]
    fn pem_keys_are_told_apart_by_type() {
        for (file, alg) in [
            ("rsa-public.pem", Algorithm::RS256),
            ("ec-public.pem", Algorithm::ES256),
            ("ed-public.pem", Algorithm::EdDSA),
        ] {
            assert_eq!(
                pem_key(&std::fs::read(path(file)).unwrap()).unwrap().alg,
                alg,
                "{file}"
            );
        }
    }
}
