//! Agencies: police forces, courts and advocacy services.

use super::models::AgencyRow;
use super::schema::agencies;
use super::DbConnection;
use crate::domain::order::AgencyRecord;
use crate::error::AppResult;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Registered agencies, read once per pool and then answered from memory: every request checks its caller's
/// agency and every order names two, so this saves two statements a lookup.
///
/// Sound because an agency is never changed or removed once registered: nothing in orderwatch does it, and the
/// database refuses it (migration `000005_agencies_fixed`). Only agencies found by a read outside any transaction
/// are kept, so an agency inserted by a transaction that later rolls back is never remembered; a code not found is
/// never kept, so an agency registered later (on any replica) is read from the database the first time.
#[derive(Default)]
pub struct AgencyCache(RwLock<HashMap<String, AgencyRecord>>);

impl AgencyCache {
    /// The agency with this code, if it has been read before.
    pub fn get(&self, code: &str) -> Option<AgencyRecord> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(code)
            .cloned()
    }
}

thread_local! {
    /// The cache of the `Database` whose `run` is executing on this thread (see `CacheScope`).
    static CURRENT: RefCell<Option<Arc<AgencyCache>>> = const { RefCell::new(None) };
}

/// While alive, `find` and `find_many` on this thread use `cache`. `Database::run` holds one around its closure,
/// so queries reach the cache of their own database without every function passing it along; a connection used
/// outside `run` (a migration, a test) reads the database every time.
pub(super) struct CacheScope(Option<Arc<AgencyCache>>);

impl CacheScope {
    pub(super) fn enter(cache: Arc<AgencyCache>) -> CacheScope {
        CacheScope(CURRENT.with(|c| c.replace(Some(cache))))
    }
}

impl Drop for CacheScope {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

fn current() -> Option<Arc<AgencyCache>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// True when `conn` is inside a transaction (whose reads may see its own uncommitted inserts).
fn in_transaction(conn: &mut DbConnection) -> bool {
    super::with_backend!(conn, |c| {
        AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map_or(true, |depth| depth.is_some())
    })
}

/// Remembers agencies just read, unless the read ran inside a transaction.
fn remember<'a>(
    conn: &mut DbConnection,
    cache: &AgencyCache,
    found: impl IntoIterator<Item = &'a AgencyRecord>,
) {
    if in_transaction(conn) {
        return;
    }
    let mut known = cache.0.write().unwrap_or_else(|e| e.into_inner());
    for a in found {
        known.insert(a.code.clone(), a.clone());
    }
}

pub(super) fn to_record(row: AgencyRow) -> AppResult<AgencyRecord> {
    Ok(AgencyRecord {
        kind: super::codec::parse_code(&row.kind, "agencies.kind")?,
        code: row.code,
        name: row.name,
        created_at: row.created_at.and_utc(),
    })
}

/// Inserts an agency; `Ok(false)` when the code is taken.
pub fn insert(conn: &mut DbConnection, record: &AgencyRecord) -> AppResult<bool> {
    let row = AgencyRow {
        code: record.code.clone(),
        name: record.name.clone(),
        kind: record.kind.as_str().to_string(),
        created_at: record.created_at.naive_utc(),
    };
    match diesel::insert_into(agencies::table)
        .values(&row)
        .execute(conn)
    {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The agency with this code, from the cache when it has been read before (see `AgencyCache`).
pub fn find(conn: &mut DbConnection, code: &str) -> AppResult<Option<AgencyRecord>> {
    let cache = current();
    if let Some(cache) = &cache {
        if let Some(a) = cache.0.read().unwrap_or_else(|e| e.into_inner()).get(code) {
            return Ok(Some(a.clone()));
        }
    }
    let found = agencies::table
        .find(code)
        .select(AgencyRow::as_select())
        .first(conn)
        .optional()?
        .map(to_record)
        .transpose()?;
    if let Some(cache) = &cache {
        remember(conn, cache, &found);
    }
    Ok(found)
}

/// The agencies with these codes: those not yet cached in one statement (none when all are).
pub fn find_many(
    conn: &mut DbConnection,
    codes: &[String],
) -> AppResult<HashMap<String, AgencyRecord>> {
    let cache = current();
    let mut known = HashMap::new();
    let mut missing: Vec<&String> = vec![];
    match &cache {
        Some(cache) => {
            let cached = cache.0.read().unwrap_or_else(|e| e.into_inner());
            for code in codes {
                match cached.get(code) {
                    Some(a) => {
                        known.insert(code.clone(), a.clone());
                    }
                    None => missing.push(code),
                }
            }
        }
        None => missing.extend(codes),
    }
    if missing.is_empty() {
        return Ok(known);
    }
    let read: Vec<AgencyRecord> = agencies::table
        .filter(agencies::code.eq_any(missing))
        .select(AgencyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(to_record)
        .collect::<AppResult<_>>()?;
    if let Some(cache) = &cache {
        remember(conn, cache, &read);
    }
    known.extend(read.into_iter().map(|a| (a.code.clone(), a)));
    Ok(known)
}

/// A page of agencies ordered by code, after `after` (exclusive).
pub fn list(
    conn: &mut DbConnection,
    after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<AgencyRecord>> {
    let mut q = agencies::table
        .select(AgencyRow::as_select())
        .order(agencies::code.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(agencies::code.gt(after.to_string()));
    }
    q.load(conn)?.into_iter().map(to_record).collect()
}
