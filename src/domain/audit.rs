//! The audit log's entries (DPA 2018 s62) and the hash chain that makes tampering evident: each entry's hash covers
//! the previous entry's hash and every field of its own, so editing, inserting or deleting a row breaks the chain
//! from that row on.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

code_enum!(
    /// What was done with order data (DPA 2018 s62(1)), plus refused access.
    AuditOperation {
        Collect => "COLLECT",
        Alter => "ALTER",
        Consult => "CONSULT",
        Disclose => "DISCLOSE",
        Combine => "COMBINE",
        Erase => "ERASE",
        AuthFailure => "AUTH_FAILURE",
        Denied => "DENIED",
    }
);

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry. It names objects and fields, never their values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub request_id: String,
    pub actor_sub: String,
    pub actor_agency: String,
    pub actor_role: String,
    pub operation: AuditOperation,
    /// The API operation, e.g. `grantOrder`, `order`, `alerts`.
    pub action: String,
    pub object_type: String,
    pub object_ids: Vec<String>,
    pub fields: Vec<String>,
    /// For a disclosure: the agency the data went to.
    pub recipient: Option<String>,
    /// `OK`, or the error code of a refused request.
    pub outcome: String,
    pub reason: Option<String>,
    /// The id the client gave its request (`X-Request-Id`); `request_id` is always the server's own.
    pub correlation_id: Option<String>,
}

/// A key of the audit chain. Entries written with it carry its id; its secret stays in the process (it lives
/// outside the database, so someone who can write to the database cannot recompute the chain).
#[derive(Clone)]
pub struct AuditKey {
    pub id: String,
    secret: Vec<u8>,
}

/// Shortest secret accepted for an audit key, in bytes.
pub const MIN_AUDIT_KEY_LEN: usize = 32;

impl AuditKey {
    /// A key from its id (letters, digits, `-`, `_`, `.`; at most 64) and secret (at least 32 bytes).
    pub fn new(id: &str, secret: &[u8]) -> Result<AuditKey, String> {
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !id_ok {
            return Err("an audit key id is 1 to 64 letters, digits, '-', '_' or '.'".into());
        }
        if secret.len() < MIN_AUDIT_KEY_LEN {
            return Err(format!(
                "the audit key {id} is shorter than {MIN_AUDIT_KEY_LEN} bytes"
            ));
        }
        Ok(AuditKey {
            id: id.to_string(),
            secret: secret.to_vec(),
        })
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes a key of any length")
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.id)
    }
}

/// The keys a chain is verified with, and the one new entries are written with: the last given. With none, new
/// entries are unkeyed (plain SHA-256 links), which only a development server on PostgreSQL without a key does.
#[derive(Debug, Clone, Default)]
pub struct AuditKeys {
    keys: Vec<AuditKey>,
}

impl AuditKeys {
    pub fn new(keys: Vec<AuditKey>) -> AuditKeys {
        AuditKeys { keys }
    }

    /// The key new entries and checkpoints are written with.
    pub fn current(&self) -> Option<&AuditKey> {
        self.keys.last()
    }

    pub fn find(&self, id: &str) -> Option<&AuditKey> {
        self.keys.iter().rev().find(|k| k.id == id)
    }

    /// A tag that stands for `text` in the log without holding it: `KEY_ID:HMAC` with the current key (an auditor
    /// holding the key can compute it for a person and match), or `sha256:HASH` when unkeyed.
    pub fn tag(&self, text: &str) -> String {
        match self.current() {
            Some(key) => {
                let mut m = key.mac();
                m.update(b"orderwatch audit tag\n");
                m.update(text.as_bytes());
                format!("{}:{}", key.id, hex(&m.finalize().into_bytes()))
            }
            None => format!("sha256:{}", hex(&Sha256::digest(text.as_bytes()))),
        }
    }
}

/// The text a name search is tagged by: the normalised name and the date of birth, as matched.
pub fn subject_search_text(name_key: Option<&str>, born: Option<chrono::NaiveDate>) -> String {
    format!(
        "subject\n{}\n{}",
        name_key.unwrap_or(""),
        born.map(|d| d.to_string()).unwrap_or_default()
    )
}

/// Feeds the length-prefixed fields of an entry after `prev_hash` to `sink`.
fn feed(prev_hash: &str, e: &AuditEntry, key_id: &str, sink: &mut dyn FnMut(&[u8])) {
    let at = e.at.timestamp_micros().to_string();
    let ids = e.object_ids.join(",");
    let fields = e.fields.join(",");
    let mut parts = vec![
        prev_hash,
        &e.id,
        &at,
        &e.request_id,
        &e.actor_sub,
        &e.actor_agency,
        &e.actor_role,
        e.operation.as_str(),
        &e.action,
        &e.object_type,
        &ids,
        &fields,
        e.recipient.as_deref().unwrap_or(""),
        &e.outcome,
        e.reason.as_deref().unwrap_or(""),
    ];
    // Keyed entries cover their key id too, and an entry with a client's request id covers it (entries without
    // either hash exactly as they always have).
    if !key_id.is_empty() {
        parts.push(key_id);
    }
    if let Some(c) = &e.correlation_id {
        parts.push("correlation");
        parts.push(c);
    }
    for f in parts {
        // Length-prefixed, so no two different entries hash the same text.
        sink(&(f.len() as u64).to_be_bytes());
        sink(f.as_bytes());
    }
}

/// Hex by table: formatting each byte with `format!` cost about 20,000 instructions an entry, more than the hashing
/// itself (callgrind).
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// The unkeyed chain hash of an entry that follows `prev_hash` (hex SHA-256): entries written before the chain was
/// keyed, or by a development server without a key.
pub fn chain_hash(prev_hash: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    feed(prev_hash, e, "", &mut |b| h.update(b));
    hex(&h.finalize())
}

/// The chain hash of an entry that follows `prev_hash`: HMAC-SHA256 with `key` (hex), or the unkeyed hash.
pub fn entry_hash(prev_hash: &str, e: &AuditEntry, key: Option<&AuditKey>) -> String {
    match key {
        None => chain_hash(prev_hash, e),
        Some(key) => {
            let mut m = key.mac();
            feed(prev_hash, e, &key.id, &mut |b| m.update(b));
            hex(&m.finalize().into_bytes())
        }
    }
}

/// A record, made outside the database, of where the chain stood: its last entry's `seq` and hash and how many
/// entries there were, signed with the current key (`mac` is empty when unkeyed). A checkpoint the database no
/// longer matches shows entries deleted from the end, the table emptied, or the chain rewritten.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub at: DateTime<Utc>,
    pub seq: i64,
    pub hash: String,
    pub count: u64,
    pub key_id: String,
    pub mac: String,
}

impl Checkpoint {
    fn signed_text(&self) -> String {
        format!(
            "orderwatch audit checkpoint\n{}\n{}\n{}\n{}\n{}",
            self.at.timestamp_micros(),
            self.seq,
            self.hash,
            self.count,
            self.key_id
        )
    }

    /// A checkpoint of the head `(seq, hash, count)` at `at`, signed with `key`.
    pub fn sign(
        at: DateTime<Utc>,
        (seq, hash, count): (i64, String, u64),
        key: Option<&AuditKey>,
    ) -> Checkpoint {
        let mut cp = Checkpoint {
            at,
            seq,
            hash,
            count,
            key_id: key.map(|k| k.id.clone()).unwrap_or_default(),
            mac: String::new(),
        };
        if let Some(key) = key {
            let mut m = key.mac();
            m.update(cp.signed_text().as_bytes());
            cp.mac = hex(&m.finalize().into_bytes());
        }
        cp
    }

    /// Whether the signature holds with one of `keys` (an unsigned checkpoint holds only where no key is kept).
    pub fn signed_by(&self, keys: &AuditKeys) -> bool {
        match keys.find(&self.key_id) {
            Some(key) => {
                let expected = Checkpoint::sign(
                    self.at,
                    (self.seq, self.hash.clone(), self.count),
                    Some(key),
                );
                expected.mac == self.mac
            }
            None => self.key_id.is_empty() && keys.current().is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            id: "e1".into(),
            at: "2026-11-29T10:00:00Z".parse().unwrap(),
            request_id: "r1".into(),
            actor_sub: "officer-1".into(),
            actor_agency: "MET".into(),
            actor_role: "POLICE".into(),
            operation: AuditOperation::Consult,
            action: "order".into(),
            object_type: "order".into(),
            object_ids: vec!["o1".into()],
            fields: vec!["reference".into(), "status".into()],
            recipient: None,
            outcome: "OK".into(),
            reason: None,
            correlation_id: None,
        }
    }

    /// Chains already stored must still verify: the hash of a known entry is fixed, lower-case hex.
    #[test]
    fn the_hash_of_a_known_entry_does_not_change() {
        assert_eq!(
            chain_hash(GENESIS_HASH, &entry()),
            "1aebe77898db27e578dac9cae8800b9ab6a2e3f766bca0f8bd1a79ebfbe86618"
        );
    }

    #[test]
    fn a_keyed_hash_depends_on_the_key_and_differs_from_the_unkeyed_one() {
        let a = AuditKey::new("a", &[1; 32]).unwrap();
        let b = AuditKey::new("b", &[1; 32]).unwrap();
        let c = AuditKey::new("a", &[2; 32]).unwrap();
        let keyed = entry_hash(GENESIS_HASH, &entry(), Some(&a));
        assert_eq!(keyed.len(), 64);
        assert_eq!(keyed, entry_hash(GENESIS_HASH, &entry(), Some(&a)));
        assert_ne!(keyed, chain_hash(GENESIS_HASH, &entry()));
        assert_ne!(
            keyed,
            entry_hash(GENESIS_HASH, &entry(), Some(&b)),
            "the key id counts"
        );
        assert_ne!(
            keyed,
            entry_hash(GENESIS_HASH, &entry(), Some(&c)),
            "the secret counts"
        );
        assert!(AuditKey::new("a", &[1; 31]).is_err());
        assert!(AuditKey::new("a b", &[1; 32]).is_err());
        assert_eq!(format!("{a:?}"), "AuditKey(a)");
    }

    #[test]
    fn a_checkpoint_is_signed_by_its_key_only() {
        let a = AuditKey::new("a", &[1; 32]).unwrap();
        let other = AuditKey::new("a", &[2; 32]).unwrap();
        let at = "2026-12-01T00:00:00Z".parse().unwrap();
        let cp = Checkpoint::sign(at, (7, "h".into(), 7), Some(&a));
        assert!(cp.signed_by(&AuditKeys::new(vec![a.clone()])));
        assert!(!cp.signed_by(&AuditKeys::new(vec![other])));
        let mut moved = cp.clone();
        moved.seq = 6;
        assert!(!moved.signed_by(&AuditKeys::new(vec![a.clone()])));
        let unsigned = Checkpoint::sign(at, (7, "h".into(), 7), None);
        assert!(unsigned.signed_by(&AuditKeys::default()));
        assert!(!unsigned.signed_by(&AuditKeys::new(vec![a])));
    }

    #[test]
    fn the_hash_covers_the_previous_hash_and_every_field() {
        let base = chain_hash(GENESIS_HASH, &entry());
        assert_eq!(base.len(), 64);
        assert_eq!(base, chain_hash(GENESIS_HASH, &entry()));
        assert_ne!(base, chain_hash(&base, &entry()));
        let mut e = entry();
        e.fields.push("protectedPersons.contact".into());
        assert_ne!(base, chain_hash(GENESIS_HASH, &e));
        let mut e = entry();
        e.object_ids = vec!["o".into(), "1".into()];
        e.fields = vec!["reference,status".into()];
        assert_ne!(
            chain_hash(GENESIS_HASH, &entry()),
            chain_hash(GENESIS_HASH, &e)
        );
    }
}
