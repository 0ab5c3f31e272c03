//! The audit log's entries (DPA 2018 s62) and the hash chain that makes tampering evident: each entry's hash covers
//! the previous entry's hash and every field of its own, so editing, inserting or deleting a row breaks the chain
//! from that row on.

use chrono::{DateTime, Utc};
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
}

/// The chain hash of an entry that follows `prev_hash` (hex SHA-256).
pub fn chain_hash(prev_hash: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let fields = [
        prev_hash,
        &e.id,
        &e.at.timestamp_micros().to_string(),
        &e.request_id,
        &e.actor_sub,
        &e.actor_agency,
        &e.actor_role,
        e.operation.as_str(),
        &e.action,
        &e.object_type,
        &e.object_ids.join(","),
        &e.fields.join(","),
        e.recipient.as_deref().unwrap_or(""),
        &e.outcome,
        e.reason.as_deref().unwrap_or(""),
    ];
    for f in fields {
        // Length-prefixed, so no two different entries hash the same text.
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    // Hex by table: formatting each byte with `format!` cost about 20,000 instructions an entry, more than the
    // hashing itself (callgrind; BENCHMARKS.md, "Idle subscriptions handed over").
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
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
