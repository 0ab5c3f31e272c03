//! Per-force statistics, for analysts (every force) and police (their own force).

use super::enums::StatisticsBy;
use super::objects::statistics::StatisticsRow;
use super::scalars::Date;
use super::{caller, services, Audited};
use crate::domain::statistics::Period;
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Figures from the record by force (or, with `by: COURT`, by court), order type and calendar quarter, for the
    /// days `from` to `to` (both included): orders made, in force, changed and breached, breach outcomes, missed
    /// notifications, applications, and how long service, breach outcomes and applications took. ANALYST reads every
    /// force's (or `force`'s); a POLICE supervisor (token scope `supervisor`) reads its own force's.
    /// Each read is recorded in the audit log. Definitions and caveats: docs/statistics.md.
    #[graphql(visible = "super::visibility::read_statistics")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        force: Option<String>,
        #[graphql(default_with = "StatisticsBy::Force")] by: StatisticsBy,
    ) -> Result<Vec<StatisticsRow>> {
        let (svc, who) = (services(ctx)?, caller(ctx)?);
        let period = Period {
            from: from.0,
            to: to.0,
        };
        let rows = svc
            .statistics(who, period, force, by.into())
            .await
            .audited(ctx)
            .await?;
        Ok(rows.into_iter().map(StatisticsRow).collect())
    }
}
