//! A DAPO's subject already under another order's notification requirements: its own do not apply while those last
//! (Domestic Abuse Act 2021 s41(8)(a): another DAPO, "and accordingly those requirements already apply"; (b): an
//! SPO's, under Stalking Protection Act 2019 s9). Subjects are matched by the rule of `domain::subject`.

use super::OtherOrderCover;
use crate::domain::calendar::london_date;
use crate::domain::order::OrderRecord;
use crate::domain::{OrderStatus, OrderType};
use chrono::{Duration, NaiveDate};

/// The requirements of `others` (the subject's other orders) that displace `dapo`'s own, as they stood when it was
/// made: each DAPO, and each SPO or interim SPO served by that day, made before it (or the same day and recorded
/// first: the record has no hour), still in force at the start of the day it was made. `None` when there are none.
pub fn other_order_cover(dapo: &OrderRecord, others: &[OrderRecord]) -> Option<OtherOrderCover> {
    // An SPO's requirements run from its service (SPA 2019 s9(1)): one not yet served by the day the DAPO was made
    // left the subject notifying under neither, so it does not displace the DAPO's.
    let served_by_then = |o: &OrderRecord| {
        o.service
            .served_at
            .is_some_and(|at| london_date(at) <= dapo.made_on)
    };
    let earlier = |o: &OrderRecord| {
        let counts = match o.order_type {
            OrderType::Dapo => true,
            OrderType::Spo | OrderType::InterimSpo => served_by_then(o),
            _ => false,
        };
        counts && (o.made_on, o.created_at, &o.id) < (dapo.made_on, dapo.created_at, &dapo.id)
    };
    let mut cover: Option<Option<NaiveDate>> = None;
    for other in others.iter().filter(|o| o.id != dapo.id && earlier(o)) {
        let ceases = ceases_on(other, others, 0);
        if ceases.is_some_and(|day| day <= dapo.made_on) {
            continue;
        }
        cover = Some(match cover {
            None => ceases,
            Some(so_far) => so_far.zip(ceases).map(|(a, b)| a.max(b)),
        });
    }
    cover.map(|final_day| OtherOrderCover { final_day })
}

/// The day the subject ceases to be under `order`'s requirements, `None` while they last indefinitely: the day after
/// its last day; for an order a court ended, the day decided (it ended at that day's start, as for deadlines); for an
/// interim SPO a full SPO replaced, the day that SPO's cease.
fn ceases_on(order: &OrderRecord, others: &[OrderRecord], depth: u8) -> Option<NaiveDate> {
    let after_last_day = |o: &OrderRecord| o.expires_on.map(|last| last + Duration::days(1));
    match order.status {
        OrderStatus::InForce | OrderStatus::Expired => after_last_day(order),
        OrderStatus::Replaced if depth < 4 => {
            let by = others
                .iter()
                .find(|o| Some(&o.reference) == order.replaced_by_reference.as_ref());
            match by {
                Some(by) => ceases_on(by, others, depth + 1),
                None => Some(ended_on(order)),
            }
        }
        _ => Some(ended_on(order)),
    }
}

/// The day an order stopped being in force: the day its court decided, or the day it was recorded.
fn ended_on(order: &OrderRecord) -> NaiveDate {
    order
        .versions
        .iter()
        .find(|v| v.status != OrderStatus::InForce)
        .map(|v| v.decided_on.unwrap_or_else(|| london_date(v.recorded_at)))
        .unwrap_or(order.made_on)
}
