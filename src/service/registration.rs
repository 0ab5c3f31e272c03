//! The subject's Sexual Offences Act 2003 Part 2 notification when an SPO was made, which displaces the order's own
//! notification requirements until its final day (SPA 2019 s9(5)-(7)). The court gives it with the order
//! (`grantOrder`); the managing force, which usually holds the registration, corrects it here, and the order's
//! deadlines are planned again: a deadline for a duty that never arose goes, one that now arises is planned.

use super::orders::not_found;
use super::schedule::sync_schedule;
use super::{audit, require_own_agency, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, write_transaction};
use crate::domain::audit::AuditOperation;
use crate::domain::calendar::london_date;
use crate::domain::order::{OrderRecord, SoaNotification};
use crate::domain::validation::{canonical_reference, check_soa_notification, Violations};
use crate::error::{AppError, AppResult};

impl Services {
    /// Sets (or, when not `registered`, clears) the subject's Sexual Offences Act 2003 Part 2 notification as it
    /// stood when the order was made (POLICE, the managing force). Setting what is already recorded changes nothing.
    pub async fn set_soa_notification(
        &self,
        who: &Caller,
        reference: String,
        registered: bool,
        given: SoaNotification,
    ) -> AppResult<OrderRecord> {
        let reference = canonical_reference(&reference);
        policy::require(who, Operation::RecordService)?;
        if !registered && (given.final_day.is_some() || given.start_day.is_some()) {
            return Err(AppError::validation(
                codes::SOA_NOTIFICATION_INVALID,
                if given.final_day.is_some() {
                    "finalDay"
                } else {
                    "startDay"
                },
                "a final or start day is given only with registered: true",
            ));
        }
        let soa = registered.then_some(given);
        let now = self.now();
        let who = who.clone();
        let rules = self.rules.clone();
        self.db
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    require_own_agency(conn, &who)?;
                    let order = db::loader::find_by_reference(conn, &reference)?
                        .filter(|o| policy::may_see_order(&who, o))
                        .ok_or_else(not_found)?;
                    if !policy::is_managing_force(&who, &order) {
                        return Err(AppError::forbidden(
                            codes::NOT_ORDER_AGENCY,
                            "only the force that manages the order records its subject's other notification",
                        ));
                    }
                    let mut v = Violations::default();
                    check_soa_notification(order.order_type, order.made_on, soa, london_date(now), &mut v);
                    v.into_result()?;
                    if order.soa_notification == soa {
                        return Ok(());
                    }
                    db::orders::set_soa_notification(conn, &order.id, soa, now)?;
                    sync_schedule(conn, &order.id, &rules, now)?;
                    let entry = audit::entry(
                        &who,
                        now,
                        AuditOperation::Alter,
                        "setSoaPart2Notification",
                        "order",
                        vec![order.id.clone()],
                        &["soaPart2Notification"],
                    );
                    db::audit::append(conn, &[entry])?;
                    Ok(())
                })?;
                tracing::info!(order.reference = %reference, "other notification regime recorded");
                db::loader::find_by_reference(conn, &reference)?.ok_or_else(not_found)
            })
            .await
    }
}
