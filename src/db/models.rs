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

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
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
}
