//! Alert endpoints (webhooks, duty inboxes) and their delivery state: each one's cursor in the alerts outbox, its
//! failed tries, and the lease that lets one replica at a time deliver to it.

use super::codec::{parse_code, truncate_micros};
use super::schema::alert_endpoints as e;
use super::DbConnection;
use crate::domain::alert::AlertKind;
use crate::domain::endpoint::{EndpointRecord, EndpointState, Transport};
use crate::error::AppResult;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = e)]
struct EndpointRow {
    id: String,
    agency: String,
    transport: String,
    target: String,
    kinds: String,
    secret: Option<String>,
    previous_secret: Option<String>,
    previous_secret_until: Option<NaiveDateTime>,
    state: String,
    delivered_seq: i64,
    attempts: i64,
    failing_since: Option<NaiveDateTime>,
    last_error: Option<String>,
    last_attempt_at: Option<NaiveDateTime>,
    lease_owner: Option<String>,
    lease_until: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn at(t: DateTime<Utc>) -> NaiveDateTime {
    truncate_micros(t).naive_utc()
}

impl EndpointRow {
    fn record(self) -> AppResult<EndpointRecord> {
        let kinds = self
            .kinds
            .split(',')
            .filter(|k| !k.is_empty())
            .map(|k| parse_code::<AlertKind>(k, "alert_endpoints.kinds"))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(EndpointRecord {
            transport: parse_code::<Transport>(&self.transport, "alert_endpoints.transport")?,
            state: parse_code::<EndpointState>(&self.state, "alert_endpoints.state")?,
            previous_secret: self
                .previous_secret
                .zip(self.previous_secret_until)
                .map(|(s, until)| (s, until.and_utc())),
            id: self.id,
            agency: self.agency,
            target: self.target,
            kinds,
            secret: self.secret,
            delivered_seq: self.delivered_seq,
            attempts: self.attempts,
            failing_since: self.failing_since.map(|t| t.and_utc()),
            last_error: self.last_error,
            last_attempt_at: self.last_attempt_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

pub fn insert(conn: &mut DbConnection, r: &EndpointRecord) -> AppResult<()> {
    let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
    let row = EndpointRow {
        id: r.id.clone(),
        agency: r.agency.clone(),
        transport: r.transport.as_str().into(),
        target: r.target.clone(),
        kinds: kinds.join(","),
        secret: r.secret.clone(),
        previous_secret: None,
        previous_secret_until: None,
        state: r.state.as_str().into(),
        delivered_seq: r.delivered_seq,
        attempts: 0,
        failing_since: None,
        last_error: None,
        last_attempt_at: None,
        lease_owner: None,
        lease_until: None,
        created_at: at(r.created_at),
        updated_at: at(r.updated_at),
    };
    diesel::insert_into(e::table).values(&row).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: &str) -> AppResult<Option<EndpointRecord>> {
    e::table
        .find(id)
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?
        .map(EndpointRow::record)
        .transpose()
}

/// The endpoints of `agency` (every agency's when `None`), oldest first.
pub fn list(conn: &mut DbConnection, agency: Option<&str>) -> AppResult<Vec<EndpointRecord>> {
    let mut q = e::table.select(EndpointRow::as_select()).into_boxed();
    if let Some(agency) = agency {
        q = q.filter(e::agency.eq(agency.to_string()));
    }
    q.order((e::created_at, e::id))
        .load(conn)?
        .into_iter()
        .map(EndpointRow::record)
        .collect()
}

/// Pauses, resumes or marks failing. Resuming (to `ACTIVE`) starts the head's tries afresh.
pub fn set_state(
    conn: &mut DbConnection,
    id: &str,
    state: EndpointState,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let q = diesel::update(e::table.find(id));
    let n = if state == EndpointState::Active {
        q.set((
            e::state.eq(state.as_str()),
            e::attempts.eq(0),
            e::failing_since.eq(None::<NaiveDateTime>),
            e::updated_at.eq(at(now)),
        ))
        .execute(conn)?
    } else {
        q.set((e::state.eq(state.as_str()), e::updated_at.eq(at(now))))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// A new signing secret; the current one stays valid until `previous_until`.
pub fn rotate(
    conn: &mut DbConnection,
    id: &str,
    secret: &str,
    previous_until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let Some(current) = find(conn, id)? else {
        return Ok(false);
    };
    // The secret replaced, and those replaced before it whose overlap has not ended (a second rotation in the
    // overlap, say because the first answer was lost, must not cut off a receiver still on an earlier one): the
    // newest three, space-separated, all signing until the latest end.
    let mut previous: Vec<String> = current.secret.into_iter().collect();
    let mut until = previous_until;
    if let Some((earlier, earlier_until)) = current.previous_secret.filter(|(_, u)| *u > now) {
        previous.extend(earlier.split_whitespace().map(str::to_string));
        until = until.max(earlier_until);
    }
    previous.truncate(3);
    let n = diesel::update(e::table.find(id))
        .set((
            e::previous_secret.eq(Some(previous.join(" "))),
            e::previous_secret_until.eq(Some(at(until))),
            e::secret.eq(Some(secret)),
            e::updated_at.eq(at(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Removes an endpoint; false when there is none.
pub fn remove(conn: &mut DbConnection, id: &str) -> AppResult<bool> {
    Ok(diesel::delete(e::table.find(id)).execute(conn)? == 1)
}

/// Active endpoints no live replica holds (no lease, or one run out by `now`) or that `owner` holds already.
pub fn unclaimed(
    conn: &mut DbConnection,
    owner: &str,
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    Ok(e::table
        .filter(e::state.eq(EndpointState::Active.as_str()))
        .filter(
            e::lease_owner
                .is_null()
                .or(e::lease_until.lt(at(now)))
                .or(e::lease_owner.eq(owner)),
        )
        .select(e::id)
        .order(e::id)
        .load(conn)?)
}

/// Takes (or keeps) the lease of an active endpoint until `until`, if no other live replica holds it.
pub fn claim(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(
        e::table
            .find(id)
            .filter(e::state.eq(EndpointState::Active.as_str()))
            .filter(
                e::lease_owner
                    .is_null()
                    .or(e::lease_until.lt(at(now)))
                    .or(e::lease_owner.eq(owner)),
            ),
    )
    .set((e::lease_owner.eq(owner), e::lease_until.eq(at(until))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Extends `owner`'s lease and reads the endpoint afresh; `None` when the lease is no longer `owner`'s. The cursor
/// moves on to `scanned_to` if it is behind it: no alert up to there is for this endpoint.
pub fn renew(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    until: DateTime<Utc>,
    scanned_to: i64,
) -> AppResult<Option<EndpointRecord>> {
    let n = diesel::update(e::table.find(id).filter(e::lease_owner.eq(owner)))
        .set(e::lease_until.eq(at(until)))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    diesel::update(
        e::table
            .find(id)
            .filter(e::lease_owner.eq(owner))
            .filter(e::delivered_seq.lt(scanned_to)),
    )
    .set(e::delivered_seq.eq(scanned_to))
    .execute(conn)?;
    find(conn, id)
}

/// The endpoint, if `owner` holds its lease.
pub fn held(conn: &mut DbConnection, id: &str, owner: &str) -> AppResult<Option<EndpointRecord>> {
    e::table
        .find(id)
        .filter(e::lease_owner.eq(owner))
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()?
        .map(EndpointRow::record)
        .transpose()
}

/// Gives the lease up, if `owner` still holds it.
pub fn release(conn: &mut DbConnection, id: &str, owner: &str) -> AppResult<()> {
    diesel::update(e::table.find(id).filter(e::lease_owner.eq(owner)))
        .set((
            e::lease_owner.eq(None::<String>),
            e::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records that the alert `seq` was delivered (or is no longer for this endpoint): the cursor moves on and the
/// tries start afresh. False when `owner` has lost the lease (another replica delivers now) or the cursor is past.
pub fn delivered(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    seq: i64,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let n = diesel::update(
        e::table
            .find(id)
            .filter(e::lease_owner.eq(owner))
            .filter(e::delivered_seq.lt(seq)),
    )
    .set((
        e::delivered_seq.eq(seq),
        e::attempts.eq(0),
        e::failing_since.eq(None::<NaiveDateTime>),
        e::last_error.eq(None::<String>),
        e::last_attempt_at.eq(Some(at(now))),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed try of the head: one more attempt, why, since when; `FAILING` when `give_up`.
pub fn failed(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    error: &str,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    give_up: bool,
) -> AppResult<bool> {
    let mine = e::table
        .find(id)
        .filter(e::lease_owner.eq(owner))
        .filter(e::state.eq(EndpointState::Active.as_str()));
    let counted = (
        e::attempts.eq(e::attempts + 1),
        e::failing_since.eq(Some(at(failing_since))),
        e::last_error.eq(Some(error)),
        e::last_attempt_at.eq(Some(at(now))),
        e::updated_at.eq(at(now)),
    );
    // Only an endpoint still active: one paused while the try was in flight stays paused.
    let n = if give_up {
        diesel::update(mine)
            .set((counted, e::state.eq(EndpointState::Failing.as_str())))
            .execute(conn)?
    } else {
        diesel::update(mine).set(counted).execute(conn)?
    };
    Ok(n == 1)
}
