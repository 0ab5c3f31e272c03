//! Per-force statistics: whose figures the caller may read, the period checked, the facts read in one unit of work,
//! and the read recorded in the audit log like any other.

use super::{audit, Services};
use crate::auth::policy::{self, Operation};
use crate::auth::Caller;
use crate::codes;
use crate::db;
use crate::domain::audit::AuditOperation;
use crate::domain::scope::StatisticsScope;
use crate::domain::statistics::{aggregate, open_data, GroupBy, Period, Row, MAX_PERIOD_DAYS};
use crate::error::{AppError, AppResult};
use futures_util::{StreamExt, TryStreamExt};

impl Services {
    /// The figures of `period` by force (or court), order type and quarter: every force's (or the one asked for) for
    /// an analyst, the caller's own force's for a police supervisor.
    pub async fn statistics(
        &self,
        who: &Caller,
        period: Period,
        force: Option<String>,
        by: GroupBy,
    ) -> AppResult<Vec<Row>> {
        policy::require(who, Operation::ReadStatistics)?;
        let force = match (policy::statistics_scope(who), force) {
            (StatisticsScope::All, force) => force,
            (StatisticsScope::Force(own), None) => Some(own),
            (StatisticsScope::Force(own), Some(asked)) if asked == own => Some(own),
            (StatisticsScope::Force(_), Some(_)) => {
                return Err(AppError::forbidden(
                    codes::FORBIDDEN,
                    "a force reads its own figures only; leave out force, or give your own",
                ))
            }
            (StatisticsScope::Nothing, _) => {
                return Err(AppError::forbidden(
                    codes::SUPERVISOR_SCOPE_REQUIRED,
                    "a force's figures are read by its supervisors: the token needs the supervisor scope",
                ))
            }
        };
        let now = self.now();
        let (period, rows) = self.figures(period, force.clone(), now, by).await?;
        let scope = format!(
            "{}:{}..{}{}",
            force.as_deref().unwrap_or("*"),
            period.from,
            period.to,
            if by == GroupBy::Court {
                " by court"
            } else {
                ""
            }
        );
        self.audit(vec![audit::entry(
            who,
            now,
            AuditOperation::Consult,
            "statistics",
            "statistics",
            vec![scope],
            &[],
        )])
        .await?;
        Ok(rows)
    }

    /// The public release of `period` (every force, order types together, under disclosure control: see
    /// `domain::statistics::open_data`). Anyone may read it; each read is recorded, as from the public.
    pub async fn open_statistics(
        &self,
        period: Period,
        request_id: &str,
    ) -> AppResult<Vec<open_data::Published>> {
        let now = self.now();
        let (period, rows) = self.figures(period, None, now, GroupBy::Force).await?;
        let published = open_data::publish(&rows);
        let entry = audit::public_read(
            request_id,
            now,
            "openStatistics",
            "statistics",
            vec![format!("*:{}..{}", period.from, period.to)],
        );
        self.audit(vec![entry]).await?;
        Ok(published)
    }

    /// The rows of `period` for one force or all, as they stand `now`: the period ends today at the latest, so that
    /// nothing is counted in force on a day still to come. The period actually counted is returned with them.
    async fn figures(
        &self,
        period: Period,
        force: Option<String>,
        now: chrono::DateTime<chrono::Utc>,
        by: GroupBy,
    ) -> AppResult<(Period, Vec<Row>)> {
        check_period(period)?;
        let period = Period {
            from: period.from,
            to: period.to.min(crate::domain::calendar::london_date(now)),
        };
        if period.to < period.from {
            return Ok((period, vec![]));
        }
        // Two parts at a time, each on its own connection: the months read from the record come first, and take
        // about as long as all the kept ones together.
        let parts = db::statistics::parts(period, now).into_iter().map(|part| {
            let force = force.clone();
            self.db
                .run(move |conn| db::statistics::facts(conn, &part, force.as_deref(), now))
        });
        let mut answers = futures_util::stream::iter(parts).buffer_unordered(2);
        let mut facts = crate::domain::statistics::Facts::default();
        while let Some(part) = answers.try_next().await? {
            db::statistics::merge(&mut facts, part);
        }
        // Up to a million facts over a long period (a fifth of a second): counted off the async workers.
        let rows = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let rows = aggregate(period, &facts, by);
            tracing::debug!(
                rows = rows.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "statistics aggregated"
            );
            rows
        })
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("statistics aggregation: {e}")))?;
        Ok((period, rows))
    }
}

/// A period runs forwards and covers at most `MAX_PERIOD_DAYS`.
fn check_period(period: Period) -> AppResult<()> {
    if period.to < period.from {
        return Err(AppError::validation(
            codes::INVALID_PERIOD,
            "to",
            format!("to ({}) is before from ({})", period.to, period.from),
        ));
    }
    if (period.to - period.from).num_days() >= MAX_PERIOD_DAYS {
        return Err(AppError::validation(
            codes::INVALID_PERIOD,
            "to",
            format!("a period may cover at most {MAX_PERIOD_DAYS} days; ask for several"),
        ));
    }
    Ok(())
}
