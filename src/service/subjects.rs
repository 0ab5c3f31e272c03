//! A subject's history across orders, for police: combining records about a person, so each read is recorded as
//! such (`COMBINE`, naming every order combined).

use super::{audit, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db::{self, DbConnection};
use crate::domain::audit::AuditOperation;
use crate::domain::order::{OrderParts, OrderRecord};
use crate::domain::subject::{summarise, SubjectHistory};
use crate::domain::validation::canonical_reference;
use crate::error::{AppError, AppResult};

/// The other orders of `order`'s subject by the match rule; none when it records no date of birth.
pub(super) fn subject_orders(
    conn: &mut DbConnection,
    order: &OrderRecord,
) -> AppResult<Vec<OrderRecord>> {
    let Some(dob) = order.subject_date_of_birth else {
        return Ok(vec![]);
    };
    let keys: Vec<String> = order
        .subject_names
        .iter()
        .map(|n| crate::domain::name_key(n))
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let mut ids = db::subjects::matching_orders(conn, dob, &keys)?;
    ids.retain(|id| id != &order.id);
    db::loader::find_by_ids(conn, &ids)
}

impl Services {
    /// The history of the subject of the order with this reference, or `None` when the caller cannot see it.
    pub async fn subject_history(
        &self,
        who: &Caller,
        reference: String,
    ) -> AppResult<Option<SubjectHistory>> {
        policy::require(who, Operation::ReadSubjectHistory)?;
        let reference = canonical_reference(&reference);
        let caller = who.clone();
        let found = self
            .db
            .run(move |conn| {
                let Some(order) =
                    db::loader::find_parts_by_reference(conn, &reference, OrderParts::NONE)?
                        .filter(|o| policy::may_see_order(&caller, o))
                else {
                    return Ok(None);
                };
                let Some(dob) = order.subject_date_of_birth else {
                    return Err(AppError::validation(
                        codes::SUBJECT_NOT_MATCHABLE,
                        "reference",
                        "the order records no date of birth for its subject, and subjects are matched by date of birth and name",
                    ));
                };
                let keys: Vec<String> = order
                    .subject_names
                    .iter()
                    .map(|n| crate::domain::name_key(n))
                    .collect();
                let ids = db::subjects::matching_orders(conn, dob, &keys)?;
                let breaches = db::subjects::breach_count(conn, &ids)?;
                let people = db::subjects::protected_people(conn, &ids)?;
                Ok(Some((summarise(ids.len(), breaches, &people), ids)))
            })
            .await?;
        let Some((history, ids)) = found else {
            return Ok(None);
        };
        self.audit(vec![audit::entry(
            who,
            self.now(),
            AuditOperation::Combine,
            "subjectHistory",
            "order",
            ids,
            &["subjectHistory"],
        )])
        .await?;
        Ok(Some(history))
    }
}
