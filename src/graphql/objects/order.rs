//! Output types. A [`ProtectionOrder`] is built for one caller: what that caller may read is decided when it is
//! built (by `auth::policy`) and each sensitive field checks it.

pub use super::order_parts::{Condition, OrderVersion, ProtectedPerson};
use crate::auth::{policy, Principal};
use crate::domain::calendar::end_of_day;
use crate::domain::order::{OrderParts, OrderRecord};
use crate::domain::status::effective_status;
use crate::graphql::enums::*;
use crate::graphql::error::forbidden_field;
use crate::graphql::objects::connection::Agency;
use crate::graphql::scalars::{Date, DateTime};
use async_graphql::Context;
use async_graphql::{Object, SimpleObject};
use std::sync::Arc;

/// A protection order or notice, as one caller may see it.
pub struct ProtectionOrder {
    rec: Arc<OrderRecord>,
    now: chrono::DateTime<chrono::Utc>,
    who: Principal,
}

/// The histories a selection of `ProtectionOrder` fields shows, so a read loads only those.
pub fn parts_selected(order: &async_graphql::Lookahead<'_>) -> OrderParts {
    let versions = order.field("versions").exists();
    OrderParts {
        versions,
        breaches: order.field("breaches").exists(),
        notifications: order.field("notifications").exists(),
        deadlines: order.field("deadlines").exists(),
        names: order.field("subject").exists(),
        persons: order.field("protectedPersons").exists(),
        // Each version lists the conditions as they stood in it.
        conditions: versions || order.field("conditions").exists(),
        // The access policy adds what it needs to decide (`OrderParts::for_scope`).
        shares: false,
        hearings: order.field("hearings").exists(),
    }
}

impl ProtectionOrder {
    /// A part the read did not load is an internal error, never a silently empty list. (`parts_selected` and these
    /// fields must agree; a test selects each field to hold them together.)
    fn require_loaded(&self, loaded: bool, field: &str) -> async_graphql::Result<()> {
        if loaded {
            Ok(())
        } else {
            Err(crate::graphql::error::to_graphql(
                crate::error::AppError::internal(anyhow::anyhow!(
                    "ProtectionOrder.{field} was selected but not loaded"
                )),
            ))
        }
    }

    pub fn new(
        rec: impl Into<Arc<OrderRecord>>,
        now: chrono::DateTime<chrono::Utc>,
        who: &Principal,
    ) -> Self {
        ProtectionOrder {
            rec: rec.into(),
            now,
            who: who.clone(),
        }
    }
}

/// The subject's notification requirements under Part 2 of the Sexual Offences Act 2003.
#[derive(SimpleObject)]
pub struct SoaNotification {
    /// The day they end; null while they last indefinitely.
    pub final_day: Option<Date>,
    /// The day they began, when after the order was made; null when they were in place when it was made.
    pub start_day: Option<Date>,
}

/// The person an order is made against.
#[derive(SimpleObject)]
pub struct Subject {
    /// Every name the subject is known by, as recorded (the first is the main one).
    pub names: Vec<String>,
    pub date_of_birth: Option<Date>,
}

/// Answers a sensitive field the caller may not read: `null`, with a `FORBIDDEN_FIELD` error at the field's path.
/// (Returning an `Err` would make async-graphql drop the key altogether; the GraphQL spec wants it null.)
/// The withheld field is noted for the request's audit entry (a field-level denial).
pub(crate) fn withheld<T>(ctx: &Context<'_>, field: &str) -> Option<T> {
    let error = ctx.set_error_path(forbidden_field(field).into_server_error(ctx.item.pos));
    if let Ok(denied) = ctx.data::<crate::graphql::Withheld>() {
        // Field names only (list indices dropped): `order.protectedPersons.contact`.
        let path: Vec<String> = error
            .path
            .iter()
            .filter_map(|p| match p {
                async_graphql::PathSegment::Field(f) => Some(f.clone()),
                async_graphql::PathSegment::Index(_) => None,
            })
            .collect();
        denied
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.join("."));
    }
    ctx.add_error(error);
    None
}

#[Object]
impl ProtectionOrder {
    /// The unique case reference.
    async fn reference(&self) -> &str {
        &self.rec.reference
    }
    #[graphql(name = "type")]
    async fn order_type(&self) -> OrderType {
        self.rec.order_type.into()
    }
    /// Where the order stands now. An order whose fixed term has ended is `EXPIRED` from the end of its last day,
    /// even before the scheduled checks record it.
    async fn status(&self) -> OrderStatus {
        effective_status(self.rec.status, self.rec.expires_on, self.now).into()
    }
    async fn service_status(&self) -> ServiceStatus {
        self.rec.service.status.into()
    }
    async fn served_at(&self) -> Option<DateTime> {
        self.rec.service.served_at.map(DateTime)
    }
    /// For an SPO whose subject was subject to Sexual Offences Act 2003 Part 2 notification when it was made: when
    /// that ends, the order's own notification requirements begin (SPA 2019 s9(5)-(7)). Police only; others get null
    /// with `FORBIDDEN_FIELD`.
    #[graphql(visible = "crate::graphql::visibility::police_details")]
    async fn soa_part2_notification(&self, ctx: &Context<'_>) -> Option<SoaNotification> {
        if !policy::may_see_notification_deadlines(&self.who) {
            return withheld(ctx, "soaPart2Notification");
        }
        self.rec.soa_notification.map(|s| SoaNotification {
            final_day: s.final_day.map(Into::into),
            start_day: s.start_day.map(Into::into),
        })
    }
    /// Made without notice to the subject.
    async fn without_notice(&self) -> bool {
        self.rec.without_notice
    }
    /// A DAPO having effect until an event occurs, as the order words it (Domestic Abuse Act 2021 s38(3)); once the
    /// court records that it occurred, `expiresOn` is the day it did.
    async fn until_event(&self) -> Option<&str> {
        self.rec.until_event.as_deref()
    }
    /// An SPO the court made of its own motion, on conviction or acquittal, with no police application; null for an
    /// order made on an application or issued by the police. `applicant` is then the force managing it.
    async fn court_motion(&self) -> Option<CourtMotion> {
        self.rec.court_motion.map(Into::into)
    }
    /// Since when the subject has known of the order: the earlier of service and `recordAwareness`.
    async fn subject_aware_at(&self) -> Option<DateTime> {
        self.rec.subject_aware_since().map(DateTime)
    }
    async fn service_method(&self) -> Option<ServiceMethod> {
        self.rec.service.method.map(Into::into)
    }
    /// The force that recorded service.
    async fn served_by_agency(&self) -> Option<&str> {
        self.rec.service.served_by_agency.as_deref()
    }
    async fn made_on(&self) -> Date {
        self.rec.made_on.into()
    }
    /// The last day of a fixed-term order; null when it runs until further order.
    async fn expires_on(&self) -> Option<Date> {
        self.rec.expires_on.map(Date)
    }
    /// The instant the order ends: the end of `expiresOn`, London time.
    async fn expires_at(&self) -> Option<DateTime> {
        self.rec.expires_on.map(|d| DateTime(end_of_day(d)))
    }
    async fn subject(&self) -> async_graphql::Result<Subject> {
        self.require_loaded(self.rec.loaded.names, "subject")?;
        Ok(Subject {
            names: self.rec.subject_names.clone(),
            date_of_birth: self.rec.subject_date_of_birth.map(Date),
        })
    }
    /// The people the order protects. An advocacy service sees only those whose consent it holds.
    async fn protected_persons(&self) -> async_graphql::Result<Vec<ProtectedPerson>> {
        self.require_loaded(self.rec.loaded.persons, "protectedPersons")?;
        let may_see_contact = policy::may_see_protected_contact(&self.who, &self.rec);
        Ok(self
            .rec
            .protected_persons
            .iter()
            .filter(|p| policy::may_see_protected_person(&self.who, &self.rec, &p.id))
            .map(|p| ProtectedPerson {
                rec: p.clone(),
                may_see_contact,
            })
            .collect())
    }
    /// Deadlines of the order, by due moment (notification deadlines for police only).
    async fn deadlines(&self) -> async_graphql::Result<Vec<super::deadline::Deadline>> {
        self.require_loaded(self.rec.loaded.deadlines, "deadlines")?;
        let notifications = policy::may_see_notification_deadlines(&self.who);
        Ok(self
            .rec
            .deadlines
            .iter()
            .filter(|d| {
                notifications
                    || !d.kind.missable()
                    || d.kind == crate::domain::schedule::DeadlineKind::HearingWindow
            })
            .map(|d| {
                super::deadline::Deadline::new(d.clone(), self.rec.reference.clone(), self.now)
            })
            .collect())
    }
    /// The subject's notifications (names and addresses notified): the managing force only, others get null with
    /// `FORBIDDEN_FIELD`.
    #[graphql(visible = "crate::graphql::visibility::police_details")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<super::deadline::Notification>>> {
        if !policy::may_see_notifications(&self.who, &self.rec) {
            return Ok(withheld(ctx, "notifications"));
        }
        self.require_loaded(self.rec.loaded.notifications, "notifications")?;
        Ok(Some(
            self.rec
                .notifications
                .iter()
                .cloned()
                .map(super::deadline::Notification)
                .collect(),
        ))
    }
    /// Hearings listed for the order.
    async fn hearings(&self) -> async_graphql::Result<Vec<super::deadline::Hearing>> {
        self.require_loaded(self.rec.loaded.hearings, "hearings")?;
        Ok(self
            .rec
            .hearings
            .iter()
            .cloned()
            .map(super::deadline::Hearing)
            .collect())
    }
    /// Breaches reported, oldest first. Courts see no breach intelligence: null with `FORBIDDEN_FIELD`.
    #[graphql(visible = "crate::graphql::visibility::breaches")]
    async fn breaches(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<super::breach::Breach>>> {
        if !policy::may_see_breaches(self.who.role) {
            return Ok(withheld(ctx, "breaches"));
        }
        self.require_loaded(self.rec.loaded.breaches, "breaches")?;
        Ok(Some(
            self.rec
                .breaches
                .iter()
                .map(|b| super::breach::Breach::new(b.clone(), &self.rec.reference, &self.who))
                .collect(),
        ))
    }
    /// The conditions in the current version.
    async fn conditions(&self) -> async_graphql::Result<Vec<Condition>> {
        self.require_loaded(self.rec.loaded.conditions, "conditions")?;
        Ok(self
            .rec
            .current_conditions()
            .map(|c| Condition {
                rec: c.clone(),
                now: self.now,
            })
            .collect())
    }
    /// The police force that applied for the order, or manages it: it sees the most about it.
    async fn applicant_agency(&self) -> Agency {
        self.rec.applicant.clone().into()
    }
    /// The court that made the order; null for police notices (DVPN, DAPN).
    async fn court(&self) -> Option<Agency> {
        self.rec.court.clone().map(Into::into)
    }
    /// The current version number; each variation, renewal, discharge or replacement adds one.
    async fn version(&self) -> i64 {
        self.rec.version
    }
    /// Every version, oldest first.
    async fn versions(&self) -> async_graphql::Result<Vec<OrderVersion>> {
        self.require_loaded(self.rec.loaded.versions, "versions")?;
        // Each version lists its conditions from the order's.
        self.require_loaded(self.rec.loaded.conditions, "versions.conditions")?;
        Ok((0..self.rec.versions.len())
            .map(|index| OrderVersion {
                order: self.rec.clone(),
                index,
                now: self.now,
            })
            .collect())
    }
    /// The interim order or notice this order replaced.
    async fn replaces_reference(&self) -> Option<&str> {
        self.rec.replaces_reference.as_deref()
    }
    /// The order that replaced this one.
    async fn replaced_by_reference(&self) -> Option<&str> {
        self.rec.replaced_by_reference.as_deref()
    }
    /// The law the order is made under.
    async fn statute(&self) -> &'static str {
        self.rec.order_type.rules().statute
    }
    /// Whether breaching the order is a criminal offence (otherwise arrest, or civil contempt for a DVPO).
    async fn breach_is_offence(&self) -> bool {
        self.rec.order_type.rules().breach_is_offence
    }
    async fn created_at(&self) -> DateTime {
        self.rec.created_at.into()
    }
    async fn updated_at(&self) -> DateTime {
        self.rec.updated_at.into()
    }
}
