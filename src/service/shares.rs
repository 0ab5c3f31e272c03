//! Consent to share an order with an advocacy service, recorded by the court that made it or the managing force.

use super::{audit, recorded, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, write_transaction, DbConnection};
use crate::domain::audit::AuditOperation;
use crate::domain::order::{OrderParts, OrderRecord, ShareRecord};
use crate::domain::validation::canonical_reference;
use crate::domain::AgencyKind;
use crate::error::{AppError, AppResult};

/// What a share or revoke names.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    pub reference: String,
    pub protected_person_id: String,
    pub advocacy_agency: String,
}

/// The order whose consent to share the caller records or revokes: visible to it, and the caller the court that
/// made it or its managing force.
fn order_to_share(
    conn: &mut DbConnection,
    who: &Caller,
    reference: &str,
) -> AppResult<OrderRecord> {
    require_own_agency(conn, who)?;
    // The checks need the persons, consents and hearings, which every read loads; not the histories.
    let order = db::loader::find_parts_by_reference(conn, reference, OrderParts::NONE)?
        .filter(|o| policy::may_see_order(who, o))
        .ok_or(AppError::NotFound { what: "order" })?;
    if !policy::may_share_order(who, &order) {
        return Err(AppError::forbidden(
            codes::NOT_ORDER_AGENCY,
            "only the court that made the order or its managing force may record or revoke consent to share it",
        ));
    }
    Ok(order)
}

impl Services {
    /// Records the protected person's consent to share the order with an advocacy service. Recording the same live
    /// consent again returns it and writes nothing.
    pub async fn share_order(&self, who: &Caller, req: ShareRequest) -> AppResult<ShareRecord> {
        policy::require(who, Operation::ShareOrder)?;
        let who = who.clone();
        let now = self.now();
        let reference = canonical_reference(&req.reference);
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    let order = order_to_share(conn, &who, &reference)?;
                    if !order.protected_persons.iter().any(|p| p.id == req.protected_person_id) {
                        return Err(AppError::validation(
                            codes::UNKNOWN_PROTECTED_PERSON,
                            "protectedPersonId",
                            "no person protected by this order has that id",
                        ));
                    }
                    match db::agencies::find(conn, &req.advocacy_agency)? {
                        None => {
                            return Err(AppError::validation(
                                codes::UNKNOWN_AGENCY,
                                "advocacyAgency",
                                format!("no agency has code {}", req.advocacy_agency),
                            ))
                        }
                        Some(a) if a.kind != AgencyKind::AdvocacyService => {
                            return Err(AppError::validation(
                                codes::AGENCY_KIND_MISMATCH,
                                "advocacyAgency",
                                "orders are shared with advocacy services only",
                            ))
                        }
                        Some(_) => {}
                    }
                    let rec = recorded(&who, now, None);
                    let mut disclosed = audit::entry(&who, now, AuditOperation::Disclose, "shareOrderWithAdvocacy", "order", vec![order.id.clone(), req.protected_person_id.clone()], &["orderShare"]);
                    disclosed.recipient = Some(req.advocacy_agency.clone());
                    db::audit::append(conn, &[disclosed])?;
                    match db::shares::insert(conn, &order.id, &req.protected_person_id, &req.advocacy_agency, &rec)? {
                        Some(share) => {
                            tracing::info!(order.reference = %reference, share.agency = %req.advocacy_agency, "order shared");
                            Ok(share)
                        }
                        None => db::shares::find_active(conn, &order.id, &req.protected_person_id, &req.advocacy_agency)?
                            .ok_or_else(|| AppError::internal(anyhow::anyhow!("live share vanished"))),
                    }
                })
            })
            .await
    }

    /// Ends a live consent: from then on the service sees neither the order nor its alerts.
    pub async fn revoke_share(&self, who: &Caller, req: ShareRequest) -> AppResult<ShareRecord> {
        policy::require(who, Operation::ShareOrder)?;
        let who = who.clone();
        let now = self.now();
        let reference = canonical_reference(&req.reference);
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    let order = order_to_share(conn, &who, &reference)?;
                    let share =
                        db::shares::find_active(conn, &order.id, &req.protected_person_id, &req.advocacy_agency)?
                            .ok_or(AppError::NotFound { what: "share" })?;
                    let revoked = db::shares::revoke(conn, &share.id, now, &who.agency)?;
                    db::audit::append(conn, &[audit::entry(&who, now, AuditOperation::Alter, "revokeOrderShare", "order_share", vec![share.id.clone(), order.id.clone()], &["revokedAt"])])?;
                    // Other replicas re-check consent before their next delivery (sent on commit).
                    db::alerts::notify(conn, db::alerts::SHARE_CHANNEL)?;
                    tracing::info!(order.reference = %reference, share.agency = %req.advocacy_agency, "order share revoked");
                    Ok(revoked)
                })
            })
            .await
            .inspect(|_| self.feed.consent_revoked())
    }
}
