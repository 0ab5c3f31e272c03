//! The checks of a new order before it is recorded: who may record it, what it must say, and who applied.

use super::orders::GrantRequest;
use crate::auth::policy;
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, DbConnection};
use crate::domain::calendar::london_date;
use crate::domain::validation::{self, check_note};
use crate::domain::{AgencyKind, Issuer, OrderType, Violations};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};

/// Who may record a grant and what it must say, before anything is read: the issuer the order type needs, the
/// draft's own checks, the reference within the caller's namespace, and the court (a court records only its own
/// orders; a notice has none). The court the order is made by, if any.
pub(super) fn check_grant(
    who: &Caller,
    req: &GrantRequest,
    now: DateTime<Utc>,
    court_made_spo: bool,
) -> AppResult<Option<String>> {
    let order_type = req.draft.order_type;
    let rules = order_type.rules();
    if policy::issuer_for(who.role) != Some(rules.issuer) {
        let by = match rules.issuer {
            Issuer::Court => "a court",
            Issuer::Police => "a police force",
        };
        return Err(AppError::forbidden(
            codes::WRONG_ISSUER,
            format!(
                "a {order_type} is made by {by}; the {} role cannot record it",
                who.role
            ),
        ));
    }
    let mut v = match validation::validate_order(&req.draft, london_date(now)) {
        Ok(()) => Violations::default(),
        Err(v) => v,
    };
    check_note(req.note.as_deref(), "note", &mut v);
    if !v.names_field("reference") {
        validation::validate_reference_namespace(&req.draft.reference, &who.agency, &mut v);
    }
    if let Some(r) = &req.replaces_reference {
        validation::validate_reference(r, "replacesReference", &mut v);
    }
    if req.court_motion.is_some() {
        check_court_motion(order_type, court_made_spo, &mut v);
    }
    let court = match rules.issuer {
        Issuer::Court => {
            let court = req.court.clone().unwrap_or_else(|| who.agency.clone());
            if court != who.agency {
                return Err(AppError::forbidden(
                    codes::COURT_MISMATCH,
                    "a court may only record orders it made itself",
                ));
            }
            Some(court)
        }
        Issuer::Police => {
            if req.court.is_some() {
                v.push(
                    codes::COURT_NOT_ALLOWED,
                    "court",
                    format!("a {order_type} is issued by the police, not a court"),
                );
            }
            if req.applicant_agency != who.agency {
                return Err(AppError::forbidden(
                    codes::AGENCY_MISMATCH,
                    "a police force may only record notices it issued itself",
                ));
            }
            None
        }
    };
    v.into_result()?;
    Ok(court)
}

/// An order made by a court of its own motion: an SPO, where the deployment has the power enabled (the Crime and
/// Policing Bill's provision, not modelled before its commencement; `ORDERWATCH_COURT_MADE_SPO`).
fn check_court_motion(order_type: OrderType, enabled: bool, v: &mut Violations) {
    if order_type != OrderType::Spo {
        v.push(
            codes::COURT_MOTION_NOT_APPLICABLE,
            "courtMotion",
            format!("only an SPO is made by a court of its own motion, not a {order_type}"),
        );
    } else if !enabled {
        v.push(
            codes::COURT_MADE_SPO_NOT_ENABLED,
            "courtMotion",
            "this deployment does not record SPOs made by a court of its own motion (ORDERWATCH_COURT_MADE_SPO)",
        );
    }
}

/// The applicant of an order is a registered police force.
pub(super) fn require_applicant_force(conn: &mut DbConnection, code: &str) -> AppResult<()> {
    match db::agencies::find(conn, code)? {
        None => return Err(AppError::validation(codes::UNKNOWN_AGENCY, "applicantAgency", format!("no agency has code {}", code))),
        Some(a) if a.kind != AgencyKind::PoliceForce => {
            return Err(AppError::validation(codes::AGENCY_KIND_MISMATCH, "applicantAgency", "the applicant agency must be a police force (the force that applied for, or manages, the order)"))
        }
        Some(_) => {}
    }
    Ok(())
}
