//! When the subject of an order made without notice became aware of it: a breach of a non-molestation order or DAPO
//! made without notice is an offence only once the subject was aware of it (Family Law Act 1996 s42A(2), Domestic
//! Abuse Act 2021 s39(2)). Service makes the subject aware; police who learn that the subject knew earlier (told by
//! an officer, read it at court) record that here. Breaches are checked against the earlier of the two
//! (`service::breaches`).

use super::orders::{not_found, SERVED_AT_FUTURE_TOLERANCE};
use super::{audit, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::end_of_day;
use crate::domain::calendar::london_date;
use crate::domain::order::{OrderRecord, VersionRecord};
use crate::domain::validation::canonical_reference;
use crate::domain::OrderEvent;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The subject became aware of the variation without notice that made `version` (DA Act 2021 s45(9)): not before
/// the day the court decided it; the earliest time known is kept.
fn record_variation_awareness(
    conn: &mut DbConnection,
    who: &Caller,
    now: DateTime<Utc>,
    order: &OrderRecord,
    version: i64,
    aware_at: DateTime<Utc>,
) -> AppResult<()> {
    let v = order
        .versions
        .iter()
        .find(|v| v.version == version && v.without_notice)
        .ok_or_else(|| {
            AppError::validation(
                codes::NOT_MADE_WITHOUT_NOTICE,
                "variation",
                "no version of the order with that number was a variation made without notice",
            )
        })?;
    let decided = v.decided_on.unwrap_or_else(|| london_date(v.recorded_at));
    if london_date(aware_at) < decided {
        return Err(AppError::validation(
            codes::AWARE_AT_OUT_OF_RANGE,
            "awareAt",
            format!("awareAt is before the day the variation was decided ({decided})"),
        ));
    }
    if db::orders::record_version_awareness(conn, &order.id, version, aware_at, now)? {
        let entry = audit::entry(
            who,
            now,
            AuditOperation::Alter,
            "recordAwareness",
            "order",
            vec![order.id.clone()],
            &["versions.subjectAwareAt"],
        );
        db::audit::append(conn, &[entry])?;
    }
    Ok(())
}

impl Services {
    /// Records when the subject became aware of an order made without notice, or with `variation`, of the DAPO
    /// variation without notice that made that version (POLICE, any force, as for service). Repeating it, or giving a
    /// later time than one already known, changes nothing.
    pub async fn record_awareness(
        &self,
        who: &Caller,
        reference: String,
        aware_at: DateTime<Utc>,
        variation: Option<i64>,
    ) -> AppResult<OrderRecord> {
        let reference = canonical_reference(&reference);
        policy::require(who, Operation::RecordService)?;
        let now = self.now();
        if aware_at > now + SERVED_AT_FUTURE_TOLERANCE {
            return Err(AppError::validation(
                codes::AWARE_AT_OUT_OF_RANGE,
                "awareAt",
                "awareAt is in the future",
            ));
        }
        let who = who.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?
                        .filter(|o| policy::may_see_order(&who, o))
                        .ok_or_else(not_found)?;
                    if let Some(version) = variation {
                        return record_variation_awareness(
                            conn, &who, now, &order, version, aware_at,
                        );
                    }
                    if !order.without_notice {
                        return Err(AppError::conflict(
                            codes::NOT_MADE_WITHOUT_NOTICE,
                            "the order was made on notice: the subject is taken to know of it",
                        ));
                    }
                    if london_date(aware_at) < order.made_on {
                        return Err(AppError::validation(
                            codes::AWARE_AT_OUT_OF_RANGE,
                            "awareAt",
                            format!(
                                "awareAt is before the day the order was made ({})",
                                order.made_on
                            ),
                        ));
                    }
                    if order
                        .subject_aware_since()
                        .is_some_and(|known| known <= aware_at)
                    {
                        return Ok(());
                    }
                    if db::orders::record_awareness(conn, &order.id, aware_at, now)? {
                        let entry = audit::entry(
                            &who,
                            now,
                            AuditOperation::Alter,
                            "recordAwareness",
                            "order",
                            vec![order.id.clone()],
                            &["subjectAwareAt"],
                        );
                        db::audit::append(conn, &[entry])?;
                    }
                    Ok(())
                })?;
                tracing::info!(order.reference = %reference, "awareness recorded");
                db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)
            })
            .await
    }
}

/// A DAPO varied without notice to the subject so as to add a requirement or extend a period (Domestic Abuse Act
/// 2021 s45(8)): behaviour before the subject was aware of the variation breaches neither what it added nor the order
/// in the period it extended (s45(9), taken as for an order made without notice, s39(2)). A requirement it added is a
/// condition of the new version with no condition of the same kind and words before it; one it extended had them,
/// ending sooner. The variation has effect from the start of the day decided.
pub(super) fn before_variation_awareness(
    order: &OrderRecord,
    occurred_at: DateTime<Utc>,
    condition_ids: &[String],
) -> AppResult<()> {
    let refuse = |field: &str, what: &str, v: &VersionRecord| {
        AppError::validation(
            codes::BREACH_BEFORE_AWARENESS,
            field,
            format!(
                "{what} came from variation {} made without notice, and the subject was not yet known to be aware of it: record awareness of the variation first (Domestic Abuse Act 2021 s45(8)-(9))",
                v.version
            ),
        )
    };
    let day_starts = |v: &VersionRecord| {
        end_of_day(v.decided_on.unwrap_or_else(|| london_date(v.recorded_at)) - Duration::days(1))
    };
    for pair in order.versions.windows(2) {
        let (before, v) = (&pair[0], &pair[1]);
        if !v.without_notice {
            continue;
        }
        let from = day_starts(v);
        // Aware: as recorded, by service of the order after the variation, or through later proceedings on notice
        // that varied or renewed it.
        let aware = v
            .aware_at
            .into_iter()
            .chain(order.service.served_at.filter(|at| *at >= from))
            .chain(
                order
                    .versions
                    .iter()
                    .filter(|w| w.version > v.version && !w.without_notice)
                    .filter(|w| matches!(w.event, OrderEvent::Varied | OrderEvent::Renewed))
                    .map(day_starts),
            )
            .min();
        if occurred_at < from || aware.is_some_and(|aware| aware <= occurred_at) {
            continue;
        }
        let after = |old_end: Option<NaiveDate>, new_end: Option<NaiveDate>| match old_end {
            Some(old) => new_end.is_none_or(|new| new > old) && occurred_at >= end_of_day(old),
            None => false,
        };
        if after(before.expires_on, v.expires_on) {
            return Err(refuse(
                "occurredAt",
                "the period after the order's former last day",
                v,
            ));
        }
        for id in condition_ids {
            let Some(c) = order
                .conditions
                .iter()
                .find(|c| &c.id == id && c.added_in_version == v.version)
            else {
                continue;
            };
            let earlier = order.conditions.iter().find(|p| {
                p.in_version(before.version) && p.kind == c.kind && p.text.trim() == c.text.trim()
            });
            let added = match earlier {
                None => true,
                Some(p) => after(p.expires_on, c.expires_on),
            };
            if added {
                return Err(refuse("conditionIds", "a requirement breached", v));
            }
        }
    }
    Ok(())
}
