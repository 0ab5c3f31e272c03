//! Agencies: the police forces, courts and advocacy services that act on orders.

use super::page::{Page, PageRequest};
use super::Services;
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, codec::truncate_micros};
use crate::domain::audit::AuditOperation;
use crate::domain::order::AgencyRecord;
use crate::domain::AgencyKind;
use crate::error::{AppError, AppResult};

impl Services {
    /// Registers an agency (ADMIN). A taken code is a `AGENCY_EXISTS` conflict.
    pub async fn create_agency(
        &self,
        who: &Caller,
        code: String,
        name: String,
        kind: AgencyKind,
    ) -> AppResult<AgencyRecord> {
        policy::require(who, Operation::CreateAgency)?;
        let name = crate::domain::validation::validate_agency(&code, &name)?;
        let record = AgencyRecord {
            code,
            name,
            kind,
            created_at: truncate_micros(self.now()),
        };
        let saved = record.clone();
        let trail = super::audit::entry(
            who,
            self.now(),
            AuditOperation::Collect,
            "createAgency",
            "agency",
            vec![record.code.clone()],
            &["code", "name", "kind"],
        );
        let inserted = self
            .db
            .run(move |conn| {
                db::write_transaction(conn, |conn| {
                    let inserted = db::agencies::insert(conn, &saved)?;
                    if inserted {
                        db::audit::append(conn, &[trail])?;
                    }
                    Ok(inserted)
                })
            })
            .await?;
        if !inserted {
            return Err(AppError::conflict(
                codes::AGENCY_EXISTS,
                format!("an agency with code {} already exists", record.code),
            ));
        }
        tracing::info!(agency.code = %record.code, agency.kind = record.kind.as_str(), "agency created");
        Ok(record)
    }

    /// The agency directory, by code. Any authenticated caller may read it: it names organisations, not people.
    pub async fn list_agencies(&self, page: PageRequest) -> AppResult<Page<AgencyRecord>> {
        let limit = page.limit;
        let items = self
            .db
            .run(move |conn| db::agencies::list(conn, page.after.as_deref(), limit + 1))
            .await?;
        Ok(Page::from_fetched(items, limit))
    }
}
