//! The facts statistics are computed from (`domain::statistics`), each read within the period's bounds from an index
//! that holds every column the read needs (migration 000011), and grouped by the database wherever the figures
//! allow: the orders made, the orders in force at each quarter's end, the decisions on orders, the breaches, the
//! outcomes recorded, the missed notification deadlines and the applications' stages. Nothing personal is read.
//!
//! Events are placed in the quarter of their London date: a date by the quarter's last day, a stored (UTC) time by
//! the instant that day ends in London. This file holds the orders and the statement shape alike events are counted
//! with; `events` the rest; `dialect` what the backends write differently.

mod dialect;
mod events;
mod kept;
mod months;

pub use months::{facts, merge, parts, Part};

use super::codec::parse_code;
use super::DbConnection;
use crate::domain::statistics::{Facts, InForceFact, OrderFact, Period};
use crate::domain::OrderType;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use dialect::Dialect;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

/// The facts of `period` read from the record, for one force or for every force when `force` is `None`, with the
/// orders in force at each quarter's end when `in_force` (they take a pass over the orders). `now` decides whether an
/// open notification deadline has been missed.
fn read(
    conn: &mut DbConnection,
    period: Period,
    force: Option<&str>,
    now: DateTime<Utc>,
    in_force: bool,
) -> AppResult<Facts> {
    let started = std::time::Instant::now();
    let step = |what: &str, rows: usize| {
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(what, rows, elapsed_ms, "statistics facts read");
    };
    let d = Dialect::of(conn, period, force);
    let orders = made(conn, &d)?;
    step("orders made", orders.len());
    let in_force = if in_force {
        self::in_force(conn, &d)?
    } else {
        vec![]
    };
    step("in force", in_force.len());
    let changes = events::changes(conn, &d)?;
    step("changes", changes.len());
    let breaches = events::breaches(conn, &d)?;
    step("breaches", breaches.len());
    let outcomes = events::outcomes(conn, &d)?;
    step("outcomes", outcomes.len());
    let missed = events::missed(conn, &d, now)?;
    step("missed", missed.len());
    let applications = events::applications(conn, &d)?;
    step("applications", applications.len());
    Ok(Facts {
        orders,
        in_force,
        changes,
        breaches,
        outcomes,
        missed,
        applications,
    })
}

/// Alike events of a force and order type in a quarter of the period: its index, a detail (an outcome, a decision)
/// and a number of days or hours where the figure needs one.
#[derive(QueryableByName)]
struct Group {
    #[diesel(sql_type = Text)]
    force: String,
    #[diesel(sql_type = Nullable<Text>)]
    court: Option<String>,
    #[diesel(sql_type = Text)]
    order_type: String,
    #[diesel(sql_type = BigInt)]
    quarter: i64,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    span: Option<i64>,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    marked: i64,
}

/// The statement counting alike events: `quarter`, `detail`, `reason` and `span` are expressions over `table`'s
/// columns (or NULL), `marked` what to count besides, `range` the condition keeping the period.
struct Grouping<'a> {
    force: &'a str,
    court: &'a str,
    order_type: &'a str,
    quarter: String,
    detail: &'a str,
    reason: &'a str,
    span: String,
    marked: &'a str,
    from: &'a str,
    range: String,
}

impl Grouping<'_> {
    fn sql(&self, d: &Dialect) -> String {
        format!(
            "SELECT {force} AS force, {court} AS court, {order_type} AS order_type, {quarter} AS quarter, \
             {detail} AS detail, {reason} AS reason, {span} AS span, COUNT(*) AS events, \
             CAST(SUM({marked}) AS BIGINT) AS marked FROM {from} WHERE {range}{by_force} GROUP BY 1, 2, 3, 4, 5, 6, 7",
            force = self.force,
            court = self.court,
            order_type = self.order_type,
            quarter = self.quarter,
            detail = self.detail,
            reason = self.reason,
            span = self.span,
            marked = self.marked,
            from = self.from,
            range = self.range,
            by_force = d.force(self.force),
        )
    }
}

/// No detail, reason or span.
const NONE: &str = "CAST(NULL AS TEXT)";
const NO_SPAN: &str = "CAST(NULL AS BIGINT)";

/// The orders made within the period, grouped by quarter and the days to service.
fn made(conn: &mut DbConnection, d: &Dialect) -> AppResult<Vec<OrderFact>> {
    let sql = Grouping {
        force: "applicant_agency",
        court: "court_agency",
        order_type: "order_type",
        quarter: d.quarter_of_date("made_on"),
        detail: NONE,
        reason: NONE,
        span: d.days_to_london_date("made_on", "served_at"),
        marked: "0",
        from: "orders",
        range: format!(
            "made_on BETWEEN {} AND {}",
            d.date(d.period.from),
            d.date(d.period.to)
        ),
    }
    .sql(d);
    d.load::<Group>(conn, &sql)?
        .into_iter()
        .map(|g| {
            Ok(OrderFact {
                quarter: d.quarter(g.quarter)?,
                order_type: parse_code(&g.order_type, "orders.order_type")?,
                force: g.force,
                court: g.court,
                days_to_service: g.span,
                count: g.events as u64,
            })
        })
        .collect()
}

/// A group of orders that were in force at the same quarters' ends: from the `first` to before the `until`-th.
#[derive(QueryableByName)]
struct InForceGroup {
    #[diesel(sql_type = Text)]
    force: String,
    #[diesel(sql_type = Nullable<Text>)]
    court: Option<String>,
    #[diesel(sql_type = Text)]
    order_type: String,
    #[diesel(sql_type = BigInt)]
    first: i64,
    #[diesel(sql_type = BigInt)]
    until: i64,
    #[diesel(sql_type = BigInt)]
    orders: i64,
}

/// The orders in force at each quarter's end, counted in one pass by the database: each order falls in the group of
/// the first quarter's end it was in force at (made on or before it) and the first it no longer was (its term over
/// or ended early by then), so only a few thousand groups come back however many orders there are.
fn in_force(conn: &mut DbConnection, d: &Dialect) -> AppResult<Vec<InForceFact>> {
    let ends = &d.ends;
    let (Some((_, first_end)), Some((_, last_end))) = (ends.first(), ends.last()) else {
        return Ok(vec![]);
    };
    let first = d.quarter_of_date("made_on");
    let until = d.bucket(|i| {
        let day = d.date(ends[i].1);
        format!("expires_on < {day} OR ended_on <= {day}")
    });
    let sql = format!(
        "SELECT applicant_agency AS force, court_agency AS court, order_type, {first} AS first, {until} AS until, \
         COUNT(*) AS orders FROM orders WHERE made_on <= {last} AND (expires_on IS NULL OR expires_on >= {start}) \
         AND (ended_on IS NULL OR ended_on > {start}){force} GROUP BY 1, 2, 3, 4, 5",
        last = d.date(*last_end),
        start = d.date(*first_end),
        force = d.force("applicant_agency"),
    );
    let mut out = vec![];
    for g in d.load::<InForceGroup>(conn, &sql)? {
        let order_type: OrderType = parse_code(&g.order_type, "orders.order_type")?;
        let first = g.first.max(0) as usize;
        let until = (g.until.max(0) as usize).min(ends.len());
        for (quarter, _) in ends.iter().take(until).skip(first) {
            out.push(InForceFact {
                force: g.force.clone(),
                court: g.court.clone(),
                order_type,
                quarter: *quarter,
                count: g.orders as u64,
            });
        }
    }
    Ok(out)
}
