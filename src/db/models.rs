//! Row types: what diesel reads and writes. Conversions to domain records live beside the queries.

use super::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = agencies)]
pub struct AgencyRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: String,
    pub reference: String,
    pub order_type: String,
    pub status: String,
    pub made_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub applicant_agency: String,
    pub court_agency: Option<String>,
    pub subject_date_of_birth: Option<NaiveDate>,
    pub replaces_order_id: Option<String>,
    pub version: i64,
    pub service_status: String,
    pub served_at: Option<NaiveDateTime>,
    pub service_method: Option<String>,
    pub served_by_agency: Option<String>,
    pub served_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The day it stopped being in force before its term ran out, if it did.
    pub ended_on: Option<NaiveDate>,
    /// Made without notice to the subject.
    pub without_notice: bool,
    /// When the subject became aware of it other than by service, as recorded by police.
    pub aware_at: Option<NaiveDateTime>,
    /// The subject was subject to Sexual Offences Act 2003 Part 2 notification when the order was made.
    pub soa_notification: bool,
    /// The day those requirements end, if they are not indefinite.
    pub soa_notification_final_day: Option<NaiveDate>,
    /// A DAPO's term: until this event occurs.
    pub until_event: Option<String>,
    /// An SPO the court made of its own motion: ON_CONVICTION or ON_ACQUITTAL.
    pub court_motion: Option<String>,
    /// The day the subject's Sexual Offences Act 2003 Part 2 notification began, when after the order was made.
    pub soa_notification_start_day: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = subject_names)]
pub struct SubjectNameRow {
    pub id: String,
    pub order_id: String,
    pub position: i64,
    pub name: String,
    pub name_key: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = protected_persons)]
pub struct ProtectedPersonRow {
    pub id: String,
    pub order_id: String,
    pub position: i64,
    pub name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = conditions)]
pub struct ConditionRow {
    pub id: String,
    pub order_id: String,
    pub position: i64,
    pub kind: String,
    pub text: String,
    pub expires_on: Option<NaiveDate>,
    pub added_in_version: i64,
    pub removed_in_version: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = order_versions)]
pub struct VersionRow {
    pub order_id: String,
    pub version: i64,
    pub event: String,
    pub status: String,
    pub expires_on: Option<NaiveDate>,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: String,
    pub recorded_by_agency: String,
    pub note: Option<String>,
    pub decided_on: Option<NaiveDate>,
    /// A variation made without notice to the subject (Domestic Abuse Act 2021 s45(8)).
    pub without_notice: bool,
    /// When police record the subject became aware of that variation.
    pub aware_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = breaches)]
pub struct BreachRow {
    pub id: String,
    pub order_id: String,
    pub reported_by_agency: String,
    pub reported_by: String,
    pub external_ref: String,
    pub occurred_at: NaiveDateTime,
    pub description: String,
    pub outcome: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub recorded_as_crime: bool,
    /// The force and type of its order, kept with it for statistics.
    pub force_agency: String,
    pub order_type: String,
    /// When its current outcome was recorded.
    pub outcome_at: NaiveDateTime,
    /// The court that made its order, kept with it for statistics by court.
    pub court_agency: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = breach_conditions)]
pub struct BreachConditionRow {
    pub breach_id: String,
    pub condition_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = breach_outcomes)]
pub struct BreachOutcomeRow {
    pub id: String,
    pub breach_id: String,
    pub outcome: String,
    pub recorded_at: NaiveDateTime,
    pub recorded_by_agency: String,
    pub recorded_by: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = order_shares)]
pub struct ShareRow {
    pub id: String,
    pub order_id: String,
    pub protected_person_id: String,
    pub advocacy_agency: String,
    pub recorded_by_agency: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by_agency: Option<String>,
}

/// An alert as stored; `seq` is assigned by the database (left out of inserts).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = alerts)]
pub struct AlertRow {
    #[diesel(skip_insertion)]
    pub seq: i64,
    pub id: String,
    pub dedup_key: String,
    pub kind: String,
    pub severity: String,
    pub order_id: String,
    pub breach_id: Option<String>,
    pub due_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub late: bool,
    pub late_by_seconds: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_acks)]
pub struct AlertAckRow {
    pub alert_seq: i64,
    pub agency: String,
    pub acknowledged_at: NaiveDateTime,
    pub acknowledged_by: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub notified_at: NaiveDateTime,
    pub changed_on: Option<NaiveDate>,
    pub details: Option<String>,
    pub recorded_by_agency: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
    pub source: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = hearings)]
pub struct HearingRow {
    pub id: String,
    pub order_id: String,
    pub court_agency: String,
    pub scheduled_for: NaiveDateTime,
    pub outcome: Option<String>,
    pub held_at: Option<NaiveDateTime>,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = deadlines)]
pub struct DeadlineRow {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub occasion: String,
    pub due_at: NaiveDateTime,
    pub status: String,
    pub met_at: Option<NaiveDateTime>,
    pub rule: String,
    pub statute: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = scheduled_alerts)]
pub struct ScheduledRow {
    pub id: String,
    pub order_id: String,
    pub kind: String,
    pub occasion: String,
    pub due_at: NaiveDateTime,
    pub fire_at: NaiveDateTime,
    pub state: String,
    pub done_at: Option<NaiveDateTime>,
}
