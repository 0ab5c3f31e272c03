//! Walking the audit chain and its checkpoints, and reading where it stands.

use super::{keys, to_entry, AuditRow};
use crate::db::schema::audit_events;
use crate::db::DbConnection;
use crate::domain::audit::{chain_hash, entry_hash, GENESIS_HASH};
use crate::error::AppResult;
use diesel::prelude::*;

/// What walking the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    Intact {
        events: u64,
    },
    /// The first entry whose link or hash does not hold, and why.
    Broken {
        seq: i64,
        id: String,
        problem: String,
    },
}

/// Walks the whole chain in `seq` order, a page at a time, checking each entry's link and hash with the keys in
/// scope, and, in the same walk, each checkpoint made outside the database: signed by a key held, its entry still
/// there with its hash, and as many entries up to it. Once an entry was written with a key, an unkeyed one after it
/// is forged (only someone without the key would write one). Longer than 80 lines: entries and checkpoints are
/// checked in one walk so that each page is read once.
pub fn verify(
    conn: &mut DbConnection,
    checkpoints: &[crate::domain::audit::Checkpoint],
) -> AppResult<Verified> {
    let keys = keys::current()?;
    let at_checkpoint = |cp: &crate::domain::audit::Checkpoint, problem: String| Verified::Broken {
        seq: cp.seq,
        id: String::new(),
        problem: format!("the checkpoint of {}: {problem}", cp.at.to_rfc3339()),
    };
    if let Some(cp) = checkpoints.iter().find(|cp| !cp.signed_by(&keys)) {
        return Ok(at_checkpoint(
            cp,
            "it is not signed by a key this server holds (the checkpoint file was edited)".into(),
        ));
    }
    let mut pending: Vec<&crate::domain::audit::Checkpoint> =
        checkpoints.iter().filter(|cp| cp.seq > 0).collect();
    pending.sort_by_key(|cp| cp.seq);
    let mut pending = pending.into_iter().peekable();
    let mut prev = GENESIS_HASH.to_string();
    let mut after = 0i64;
    let mut count = 0u64;
    let mut keyed_seen = false;
    loop {
        let rows: Vec<AuditRow> = audit_events::table
            .select(AuditRow::as_select())
            .filter(audit_events::seq.gt(after))
            .order(audit_events::seq.asc())
            .limit(1000)
            .load(conn)?;
        if rows.is_empty() {
            if let Some(cp) = pending.next() {
                return Ok(at_checkpoint(
                    cp,
                    "the entry it recorded as the last is gone (entries were deleted from the end, or the log emptied)"
                        .into(),
                ));
            }
            return Ok(Verified::Intact { events: count });
        }
        for r in &rows {
            let broken = |problem: &str| Verified::Broken {
                seq: r.seq,
                id: r.id.clone(),
                problem: problem.into(),
            };
            if r.prev_hash != prev {
                return Ok(broken("its previous-hash does not match the entry before it (an entry was removed, inserted or reordered)"));
            }
            let entry = match to_entry(r) {
                Ok(e) => e,
                Err(_) => return Ok(broken("it holds a value no entry can have")),
            };
            let expected = if r.key_id.is_empty() {
                if keyed_seen {
                    return Ok(broken(
                        "it is unkeyed after keyed entries (written without the key: forged)",
                    ));
                }
                chain_hash(&prev, &entry)
            } else {
                keyed_seen = true;
                match keys.find(&r.key_id) {
                    Some(key) => entry_hash(&prev, &entry, Some(key)),
                    None => return Ok(broken("it names a key this server does not hold (add the key to ORDERWATCH_AUDIT_KEY_FILE)")),
                }
            };
            if expected != r.hash {
                return Ok(broken(
                    "its contents do not match its hash (the entry was edited, or its hash recomputed without the key)",
                ));
            }
            count += 1;
            while let Some(cp) = pending.next_if(|cp| cp.seq <= r.seq) {
                if cp.seq < r.seq {
                    return Ok(at_checkpoint(
                        cp,
                        "the entry it recorded is gone (entries were deleted)".into(),
                    ));
                }
                if cp.hash != r.hash {
                    return Ok(at_checkpoint(
                        cp,
                        "the entry it recorded has another hash now (the chain was rewritten)"
                            .into(),
                    ));
                }
                if cp.count != count {
                    return Ok(at_checkpoint(
                        cp,
                        format!(
                            "it counted {} entries up to here, the log now holds {count} (entries were removed or added)",
                            cp.count
                        ),
                    ));
                }
            }
            prev = r.hash.clone();
            after = r.seq;
        }
    }
}

/// The chain's head: its last entry's `seq` and hash, and how many entries there are (`(0, GENESIS_HASH, 0)` when
/// empty). Given an earlier head's `(seq, count)`, only the entries after it are counted (a range of the primary
/// key), so a checkpoint of a large log does not count it all again.
pub fn head(conn: &mut DbConnection, since: Option<(i64, u64)>) -> AppResult<(i64, String, u64)> {
    let last: Option<(i64, String)> = audit_events::table
        .select((audit_events::seq, audit_events::hash))
        .order(audit_events::seq.desc())
        .first(conn)
        .optional()?;
    let (from, before) = since.unwrap_or((0, 0));
    let (seq, hash) = last.unwrap_or((0, GENESIS_HASH.to_string()));
    // Up to the entry read above only: an entry appended between the two statements is the next checkpoint's.
    let after: i64 = audit_events::table
        .filter(audit_events::seq.gt(from))
        .filter(audit_events::seq.le(seq))
        .count()
        .get_result(conn)?;
    Ok((seq, hash, before + after as u64))
}

/// The last entry's `seq` (0 when the log is empty).
pub fn newest_seq(conn: &mut DbConnection) -> AppResult<i64> {
    Ok(audit_events::table
        .select(diesel::dsl::max(audit_events::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// The hash of entry `seq`, if it is there.
pub fn hash_of(conn: &mut DbConnection, seq: i64) -> AppResult<Option<String>> {
    Ok(audit_events::table
        .select(audit_events::hash)
        .filter(audit_events::seq.eq(seq))
        .first(conn)
        .optional()?)
}
