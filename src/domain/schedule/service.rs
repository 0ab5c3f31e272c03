//! Service of the order on the subject.

use super::*;

/// An order in force that nobody has served, `ORDERWATCH_UNSERVED_AFTER_HOURS` after it was recorded.
pub(super) fn unserved(f: &OrderFacts, rules: &ScheduleRules, out: &mut Plan) {
    // An order nobody has served.
    if f.status == OrderStatus::InForce && f.served_at.is_none() {
        let at = f.recorded_at + rules.unserved_after;
        out.triggers.push(TriggerSpec {
            kind: AlertKind::UnservedOrder,
            fire_at: at,
            due_at: at,
            occasion: "unserved".into(),
        });
    }
}
