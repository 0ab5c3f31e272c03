//! The access policy in one place: which operations each role may call, which orders it may see, and which
//! sensitive fields it may read. Everything here is a pure function of the principal and the object.
//!
//! | Operation | COURT | POLICE | ADVOCATE | ADMIN | AUDITOR |
//! |---|---|---|---|---|---|
//! | `me` | yes | yes | yes | yes | yes |
//! | `order`, `orders` | own court's orders, and notices whose hearing it lists | every order | shared orders | no | no |
//! | `agencies` | yes | yes | yes | yes | yes |
//! | `createAgency` | no | no | no | yes | no |
//! | `grantOrder` | court-made types, own court | police notices (DVPN, DAPN), own force | no | no | no |
//! | `recordService` | no | yes | no | no | no |
//! | `varyOrder`, `renewOrder`, `dischargeOrder` | the court that made it | no | no | no | no |
//! | `reportBreach` | no | yes (any force) | no | no | no |
//! | `updateBreachOutcome` | no | the reporting or managing force | no | no | no |
//! | `shareOrderWithAdvocacy`, `revokeOrderShare` | the court that made it | the managing force | no | no | no |
//! | `alerts` (query, subscription), `acknowledgeAlert` | no (none yet) | its own orders' alerts | shared orders' alerts | no | no |
//! | `recordNotification` | no | yes (any force) | no | no | no |
//! | `scheduleHearing`, `recordHearingOutcome` | the order's court (any court for a notice); the listing court | no | no | no | no |
//! | `alertEndpoints`, `registerAlertEndpoint`, `pause/resume/rotate...AlertEndpoint` | no | no | no | yes, on an agency's behalf | no |
//! | `deadlines` | its own orders', no notifications | its managed orders' | shared orders', no notifications | no | no |
//!
//! Sensitive fields: a protected person's contact details are returned only to the managing force (the applicant
//! force); breach descriptions and force incident references only to police; breaches not at all to courts;
//! advocates see only the protected persons whose consent they hold. Withheld fields are null with a
//! `FORBIDDEN_FIELD` error.

use super::{Principal, Role};
use crate::codes;
use crate::domain::alert::AlertKind;
use crate::domain::application::ApplicationRecord;
use crate::domain::order::OrderRecord;
use crate::domain::scope::{AlertAudience, DeadlineScope, RowScope, StatisticsScope};
use crate::domain::{AgencyKind, Issuer};
use crate::error::AppError;

/// An operation of the API, for function-level authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    ReadOrders,
    CreateAgency,
    GrantOrder,
    RecordService,
    ChangeOrder,
    ReportBreach,
    UpdateBreachOutcome,
    ShareOrder,
    ReadAlerts,
    RecordNotification,
    ScheduleHearing,
    ReadStatistics,
    /// Read an application (the force that made it, the court it was made to).
    ReadApplications,
    /// Record an application and the force's stages of it.
    RecordApplication,
    /// Record the court's decision on an application.
    DecideApplication,
    /// Read a subject's history across orders (combining records about a person).
    ReadSubjectHistory,
    /// Register, pause, resume, replay and re-key an agency's alert endpoints (webhooks, duty inboxes), and read
    /// how their deliveries stand.
    ManageEndpoints,
}

/// Whether a role may call an operation at all. Row and field checks come after this.
pub fn may_call(role: Role, op: Operation) -> bool {
    use Operation::*;
    match op {
        ReadOrders => matches!(role, Role::Court | Role::Police | Role::Advocate),
        CreateAgency => role == Role::Admin,
        GrantOrder => matches!(role, Role::Court | Role::Police),
        RecordService => role == Role::Police,
        ChangeOrder => role == Role::Court,
        ReportBreach | UpdateBreachOutcome => role == Role::Police,
        ShareOrder => matches!(role, Role::Court | Role::Police),
        ReadAlerts => matches!(role, Role::Police | Role::Advocate),
        RecordNotification => role == Role::Police,
        ScheduleHearing => role == Role::Court,
        ReadStatistics => matches!(role, Role::Analyst | Role::Police),
        ReadApplications => matches!(role, Role::Court | Role::Police),
        RecordApplication => role == Role::Police,
        DecideApplication => role == Role::Court,
        ReadSubjectHistory => role == Role::Police,
        ManageEndpoints => role == Role::Admin,
    }
}

/// `Ok` when the principal may call the operation; a `FORBIDDEN` error naming the role otherwise.
pub fn require(principal: &Principal, op: Operation) -> Result<(), AppError> {
    if may_call(principal.role, op) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            codes::FORBIDDEN,
            format!("the {} role may not do this", principal.role),
        ))
    }
}

/// Which issuer a role grants for: courts grant court orders, police forces issue notices.
pub fn issuer_for(role: Role) -> Option<Issuer> {
    match role {
        Role::Court => Some(Issuer::Court),
        Role::Police => Some(Issuer::Police),
        _ => None,
    }
}

/// The orders a principal may list.
pub fn order_scope(principal: &Principal) -> RowScope {
    match principal.role {
        Role::Police => RowScope::All,
        Role::Court => RowScope::Court(principal.agency.clone()),
        Role::Advocate => RowScope::SharedWith(principal.agency.clone()),
        Role::Admin | Role::Auditor | Role::Analyst => RowScope::Nothing,
    }
}

/// Whether a principal may see this order at all.
pub fn may_see_order(principal: &Principal, order: &OrderRecord) -> bool {
    match order_scope(principal) {
        RowScope::All => true,
        // Its own orders, and the police notices whose application it hears.
        RowScope::Court(code) => {
            order.court.as_ref().is_some_and(|c| c.code == code)
                || order.hearings.iter().any(|h| h.court_agency == code)
        }
        RowScope::SharedWith(code) => order.is_shared_with(&code),
        RowScope::Nothing => false,
    }
}

/// Whether a principal may record or revoke consent to share this order: the court that made it or the managing
/// force.
/// Whether the principal may record an order that replaces `old`: a court replaces an interim order it made or a
/// notice whose application it heard (a hearing listed at that court); a force replaces only a notice it issued.
/// Anything else is answered as if `old` did not exist.
pub fn may_replace_order(principal: &Principal, old: &OrderRecord) -> bool {
    match principal.role {
        Role::Court => match &old.court {
            Some(court) => court.code == principal.agency,
            None => old
                .hearings
                .iter()
                .any(|h| h.court_agency == principal.agency),
        },
        Role::Police => old.court.is_none() && old.applicant.code == principal.agency,
        Role::Advocate | Role::Admin | Role::Auditor | Role::Analyst => false,
    }
}

pub fn may_share_order(principal: &Principal, order: &OrderRecord) -> bool {
    may_change_order(principal, order) || is_managing_force(principal, order)
}

/// Whether a principal may read an order's protected person: advocates only those whose consent they hold.
pub fn may_see_protected_person(
    principal: &Principal,
    order: &OrderRecord,
    person_id: &str,
) -> bool {
    match principal.role {
        Role::Advocate => order
            .shares
            .iter()
            .any(|s| s.advocacy_agency == principal.agency && s.protected_person_id == person_id),
        _ => true,
    }
}

/// Whether a court may list a hearing for this order: the court that made it, or any court for a police notice
/// (the application for the order that follows it is heard by a magistrates' court).
pub fn may_list_hearing(principal: &Principal, order: &OrderRecord) -> bool {
    principal.role == Role::Court
        && order
            .court
            .as_ref()
            .is_none_or(|c| c.code == principal.agency)
}

/// Whether a principal may read the subject's notifications (the names and addresses notified): the managing force.
pub fn may_see_notifications(principal: &Principal, order: &OrderRecord) -> bool {
    is_managing_force(principal, order)
}

/// Whether a principal may see notification deadlines: police only (courts see no notification details).
pub fn may_see_notification_deadlines(principal: &Principal) -> bool {
    principal.role == Role::Police
}

/// Whether a principal may read the notes recorded with an order's versions (the court's or force's reasons):
/// never an advocacy service.
pub fn may_see_version_notes(role: Role) -> bool {
    role != Role::Advocate
}

/// Whether a principal may see an order's breaches at all (courts see no breach intelligence).
pub fn may_see_breaches(role: Role) -> bool {
    matches!(role, Role::Police | Role::Advocate)
}

/// Whether a principal may read a breach's narrative and the force's incident reference: police only.
pub fn may_see_breach_details(role: Role) -> bool {
    role == Role::Police
}

/// Which alerts a principal receives.
pub fn alert_audience(principal: &Principal) -> AlertAudience {
    match principal.role {
        Role::Police => AlertAudience::Force(principal.agency.clone()),
        Role::Advocate => AlertAudience::Advocate(principal.agency.clone()),
        Role::Court | Role::Admin | Role::Auditor | Role::Analyst => AlertAudience::Nothing,
    }
}

/// The alerts an agency of `kind` receives on its endpoints: the same as a subscriber of its role would (a force
/// its managed orders' alerts, an advocacy service its shared orders'); courts receive none yet.
pub fn endpoint_audience(kind: AgencyKind, agency: &str) -> AlertAudience {
    match kind {
        AgencyKind::PoliceForce => AlertAudience::Force(agency.to_string()),
        AgencyKind::AdvocacyService => AlertAudience::Advocate(agency.to_string()),
        AgencyKind::Court | AgencyKind::CrownCourt => AlertAudience::Nothing,
    }
}

/// The role an endpoint acts in when its deliveries are recorded in the audit log: that of the agency's own
/// subscribers.
pub fn endpoint_role(audience: &AlertAudience) -> Option<Role> {
    match audience {
        AlertAudience::Force(_) => Some(Role::Police),
        AlertAudience::Advocate(_) => Some(Role::Advocate),
        AlertAudience::Nothing => None,
    }
}

/// Whether an audience receives alerts of `kind` at all (on the orders it follows).
pub fn audience_receives_kind(audience: &AlertAudience, kind: AlertKind) -> bool {
    let rule = kind.rule();
    match audience {
        AlertAudience::Force(_) => rule.to_force,
        AlertAudience::Advocate(_) => rule.to_advocates,
        AlertAudience::Nothing => false,
    }
}

/// Whether an alert of `kind` on an order applied for by `applicant_agency` and shared now with `shared_with` goes
/// to this audience, by the same rules as `db::alerts::page`.
pub fn receives_alert(
    audience: &AlertAudience,
    kind: AlertKind,
    applicant_agency: &str,
    shared_with: &[String],
) -> bool {
    let rule = kind.rule();
    match audience {
        AlertAudience::Force(agency) => rule.to_force && applicant_agency == agency,
        AlertAudience::Advocate(agency) => rule.to_advocates && shared_with.contains(agency),
        AlertAudience::Nothing => false,
    }
}

/// Which deadlines a principal may list: a force its managed orders' (every kind), a court its own orders', an
/// advocacy service its shared orders' (neither of the last two sees notification deadlines).
pub fn deadline_scope(principal: &Principal) -> DeadlineScope {
    match principal.role {
        Role::Police => DeadlineScope::Force(principal.agency.clone()),
        Role::Court => DeadlineScope::Court(principal.agency.clone()),
        Role::Advocate => DeadlineScope::SharedWith(principal.agency.clone()),
        Role::Admin | Role::Auditor | Role::Analyst => DeadlineScope::Nothing,
    }
}

/// The kinds of agency a role acts for (its token's agency must be registered as one of them), or `None` for the
/// roles that act for the service itself.
pub fn agency_kinds_for(role: Role) -> Option<&'static [AgencyKind]> {
    match role {
        Role::Court => Some(&[AgencyKind::Court, AgencyKind::CrownCourt]),
        Role::Police => Some(&[AgencyKind::PoliceForce]),
        Role::Advocate => Some(&[AgencyKind::AdvocacyService]),
        Role::Admin | Role::Auditor | Role::Analyst => None,
    }
}

/// Whether a principal of an agency of `kind` may quash this order on appeal: the Crown Court, for an order of a type
/// appealed to it that a magistrates' court made (SPA 2019 s7 and the equivalents). Anything else is answered as if
/// the order did not exist.
pub fn may_quash_order(principal: &Principal, kind: AgencyKind, order: &OrderRecord) -> bool {
    principal.role == Role::Court
        && kind == AgencyKind::CrownCourt
        && order.order_type.rules().appeal_to_crown_court
        && order
            .court
            .as_ref()
            .is_some_and(|c| c.kind == AgencyKind::Court)
}

/// Whether a principal of an agency of `kind` may record that the application a notice or interim order waits on
/// was refused or withdrawn (ending it): a magistrates' court where the hearing was listed, never a Crown Court.
pub fn may_determine_application(principal: &Principal, kind: AgencyKind) -> bool {
    principal.role == Role::Court && kind == AgencyKind::Court
}

/// Whether a token for `role` may carry the supervisory scope: police only.
pub fn may_hold_supervisor_scope(role: Role) -> bool {
    role == Role::Police
}

/// Whose figures a principal may read in `statistics`: an analyst every force's, a police supervisor (a token with
/// the supervisory scope) their own force's, no one else any.
pub fn statistics_scope(principal: &Principal) -> StatisticsScope {
    match principal.role {
        Role::Analyst => StatisticsScope::All,
        Role::Police if principal.supervisor => StatisticsScope::Force(principal.agency.clone()),
        Role::Police | Role::Court | Role::Advocate | Role::Admin | Role::Auditor => {
            StatisticsScope::Nothing
        }
    }
}

/// Whether a principal may see an application: the force that made it, and the court it was made to. Anything
/// else is answered as if it did not exist.
pub fn may_see_application(principal: &Principal, app: &ApplicationRecord) -> bool {
    match principal.role {
        Role::Police => app.force == principal.agency,
        Role::Court => app.stages.court.as_deref() == Some(principal.agency.as_str()),
        Role::Advocate | Role::Admin | Role::Auditor | Role::Analyst => false,
    }
}

/// Whether a role may read the audit log: auditors only.
pub fn may_read_audit(role: Role) -> bool {
    role == Role::Auditor
}

/// The managing force of an order: the force that applied for it.
pub fn is_managing_force(principal: &Principal, order: &OrderRecord) -> bool {
    principal.role == Role::Police && principal.agency == order.applicant.code
}

/// Whether a principal may read protected persons' contact details on this order.
pub fn may_see_protected_contact(principal: &Principal, order: &OrderRecord) -> bool {
    is_managing_force(principal, order)
}

/// Whether a principal may change the terms of this order (vary, renew, discharge): only the court that made it.
pub fn may_change_order(principal: &Principal, order: &OrderRecord) -> bool {
    principal.role == Role::Court
        && order
            .court
            .as_ref()
            .is_some_and(|c| c.code == principal.agency)
}
