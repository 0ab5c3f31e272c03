//! Which operations and fields each role's introspection shows, from the same policy table that guards them.
//! Hiding is not the protection (every operation and field is also guarded); it keeps each role's schema to what it
//! may use. A request without a caller (printing the full SDL) sees everything.

use crate::auth::policy::{self, may_call, Operation};
use crate::auth::{Caller, Role};
use async_graphql::Context;

fn role(ctx: &Context<'_>) -> Option<Role> {
    ctx.data_opt::<Caller>().map(|c| c.role)
}

fn allows(ctx: &Context<'_>, op: Operation) -> bool {
    role(ctx).is_none_or(|r| may_call(r, op))
}

pub fn read_orders(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReadOrders)
}
pub fn manage_endpoints(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ManageEndpoints)
}
pub fn create_agency(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::CreateAgency)
}
pub fn grant_order(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::GrantOrder)
}
pub fn record_service(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::RecordService)
}
pub fn change_order(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ChangeOrder)
}
pub fn report_breach(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReportBreach)
}
pub fn share_order(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ShareOrder)
}
pub fn read_alerts(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReadAlerts)
}
pub fn record_notification(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::RecordNotification)
}
pub fn schedule_hearing(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ScheduleHearing)
}
pub fn read_statistics(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReadStatistics)
}
pub fn read_applications(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReadApplications)
}
pub fn record_application(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::RecordApplication)
}
pub fn decide_application(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::DecideApplication)
}
pub fn read_subject_history(ctx: &Context<'_>) -> bool {
    allows(ctx, Operation::ReadSubjectHistory)
}
pub fn read_audit(ctx: &Context<'_>) -> bool {
    role(ctx).is_none_or(policy::may_read_audit)
}
/// Breaches: police and advocates (courts see no breach intelligence).
pub fn breaches(ctx: &Context<'_>) -> bool {
    role(ctx).is_none_or(policy::may_see_breaches)
}
/// Police-only details: breach narratives, incident references, the subject's notifications.
pub fn police_details(ctx: &Context<'_>) -> bool {
    role(ctx).is_none_or(policy::may_see_breach_details)
}
/// Contact details: only a managing force ever reads them, so the field shows where the breach details do.
pub fn contact(ctx: &Context<'_>) -> bool {
    police_details(ctx)
}
/// The notes recorded with an order's versions: not advocacy services.
pub fn version_notes(ctx: &Context<'_>) -> bool {
    role(ctx).is_none_or(policy::may_see_version_notes)
}
