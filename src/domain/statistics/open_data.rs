//! The public release of the statistics: counts per force and quarter (order types together), with a national row
//! per quarter, under statistical disclosure control. Definitions are those of docs/statistics.md; the release and
//! its rules are in docs/open-data.md.
//!
//! Primary suppression: a count of 1 to 4 is withheld (0 and 5 or more are shown), as official statistics do for
//! small counts about people. Secondary suppression: the national row of a quarter is the sum of the forces' rows,
//! so a measure with exactly one force withheld in a quarter would give that force's count away by subtraction; the
//! smallest other force count shown for that measure and quarter is withheld too. The national counts themselves are
//! withheld when 1 to 4.

use super::Row;
use std::collections::BTreeMap;

/// Smallest count shown (besides 0).
pub const SMALLEST_SHOWN: u64 = 5;

/// The measures released, in column order.
pub const MEASURES: [&str; 13] = [
    "orders_made",
    "in_force_at_end",
    "breaches_reported",
    "breaches_recorded_as_crime",
    "breach_outcome_no_further_action",
    "breach_outcome_charged",
    "breach_outcome_convicted",
    "breach_outcome_contempt_found",
    "notifications_missed",
    "applications_made_to_court",
    "applications_granted",
    "applications_refused_by_court",
    "applications_withdrawn",
];

/// The national row's name in the `force` column.
pub const ALL_FORCES: &str = "ALL";

/// One published row: a force (or `ALL`) and a quarter, each measure a count or withheld (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub force: String,
    pub quarter: String,
    pub counts: [Option<u64>; MEASURES.len()],
}

fn measures(r: &Row) -> [u64; MEASURES.len()] {
    let a = &r.applications;
    [
        r.orders_made,
        r.in_force_at_end,
        r.breaches_reported,
        r.breaches_recorded_as_crime,
        r.outcomes.no_further_action,
        r.outcomes.charged,
        r.outcomes.convicted,
        r.outcomes.contempt_found,
        r.notifications_missed,
        a.made_to_court,
        a.granted,
        a.refused_by_court.values().sum(),
        a.withdrawn,
    ]
}

fn shown(n: u64) -> bool {
    n == 0 || n >= SMALLEST_SHOWN
}

/// The release of `rows` (every force's, by force): summed over order types per force and quarter, a national row per quarter,
/// then both suppressions. Forces in code order, the national row last in each quarter.
pub fn publish(rows: &[Row]) -> Vec<Published> {
    let mut cells: BTreeMap<(String, String), [u64; MEASURES.len()]> = BTreeMap::new();
    for r in rows {
        let sum = cells
            .entry((r.quarter.clone(), r.force.clone().unwrap_or_default()))
            .or_default();
        for (s, m) in sum.iter_mut().zip(measures(r)) {
            *s += m;
        }
    }
    let mut by_quarter: BTreeMap<String, Vec<(String, [u64; MEASURES.len()])>> = BTreeMap::new();
    for ((quarter, force), counts) in cells {
        by_quarter.entry(quarter).or_default().push((force, counts));
    }
    let mut out = vec![];
    for (quarter, forces) in by_quarter {
        let mut national = [0u64; MEASURES.len()];
        let mut published: Vec<Published> = forces
            .iter()
            .map(|(force, counts)| {
                for (n, c) in national.iter_mut().zip(counts) {
                    *n += c;
                }
                Published {
                    force: force.clone(),
                    quarter: quarter.clone(),
                    counts: counts.map(|c| shown(c).then_some(c)),
                }
            })
            .collect();
        for m in 0..MEASURES.len() {
            secondary(&mut published, &forces, m);
        }
        published.push(Published {
            force: ALL_FORCES.into(),
            quarter: quarter.clone(),
            counts: national.map(|c| shown(c).then_some(c)),
        });
        out.extend(published);
    }
    out
}

/// Where exactly one force's count of measure `m` is withheld, withholds the smallest other count shown (a zero too:
/// once withheld it could be anything), so that the national total gives away only the sum of two.
fn secondary(published: &mut [Published], forces: &[(String, [u64; MEASURES.len()])], m: usize) {
    let withheld = published.iter().filter(|p| p.counts[m].is_none()).count();
    if withheld != 1 {
        return;
    }
    let smallest = forces
        .iter()
        .enumerate()
        .filter(|(i, _)| published[*i].counts[m].is_some())
        .min_by_key(|(_, (force, counts))| (counts[m], force.clone()))
        .map(|(i, _)| i);
    if let Some(i) = smallest {
        published[i].counts[m] = None;
    }
}

/// The release as CSV: a header, then one line a row; a withheld count is `[c]` (the convention of UK official
/// statistics for confidential cells).
pub fn to_csv(published: &[Published]) -> String {
    let mut out = String::from("force,quarter");
    for m in MEASURES {
        out.push(',');
        out.push_str(m);
    }
    out.push('\n');
    for p in published {
        out.push_str(&p.force);
        out.push(',');
        out.push_str(&p.quarter);
        for c in p.counts {
            out.push(',');
            match c {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str("[c]"),
            }
        }
        out.push('\n');
    }
    out
}

/// The release as JSON: an array of objects, a withheld count `null`.
pub fn to_json(published: &[Published]) -> serde_json::Value {
    serde_json::Value::Array(
        published
            .iter()
            .map(|p| {
                let mut o = serde_json::Map::new();
                o.insert("force".into(), p.force.clone().into());
                o.insert("quarter".into(), p.quarter.clone().into());
                for (m, c) in MEASURES.iter().zip(p.counts) {
                    o.insert((*m).into(), c.map_or(serde_json::Value::Null, Into::into));
                }
                serde_json::Value::Object(o)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(force: &str, quarter: &str, orders: u64) -> Row {
        Row {
            force: Some(force.into()),
            quarter: quarter.into(),
            orders_made: orders,
            ..Row::default()
        }
    }

    #[test]
    fn small_counts_are_withheld_and_cannot_be_recovered_from_the_national_total() {
        let rows = [
            row("GMP", "2026-Q1", 3),
            row("MET", "2026-Q1", 12),
            row("WMP", "2026-Q1", 7),
        ];
        let p = publish(&rows);
        let orders = |force: &str| p.iter().find(|r| r.force == force).unwrap().counts[0];
        assert_eq!(orders("GMP"), None, "3 is withheld");
        // With GMP alone withheld, ALL - MET - WMP would give it away: the smallest other (WMP's 7) goes too.
        assert_eq!(orders("WMP"), None);
        assert_eq!(orders("MET"), Some(12));
        assert_eq!(orders(ALL_FORCES), Some(22));
        // Two withheld cells cannot be told apart from the total: nothing more is withheld.
        let rows = [
            row("GMP", "2026-Q1", 3),
            row("MET", "2026-Q1", 12),
            row("WMP", "2026-Q1", 2),
        ];
        let p = publish(&rows);
        let shown: Vec<Option<u64>> = p.iter().map(|r| r.counts[0]).collect();
        assert_eq!(shown, [None, Some(12), None, Some(17)]);
    }

    #[test]
    fn zeros_and_counts_of_five_or_more_are_shown() {
        let p = publish(&[row("MET", "2026-Q1", 5), row("GMP", "2026-Q1", 0)]);
        assert_eq!(p[0].counts[0], Some(0));
        assert_eq!(p[1].counts[0], Some(5));
        assert_eq!(p[2].counts[0], Some(5));
        assert!(to_csv(&p).starts_with("force,quarter,orders_made,"));
        let csv = to_csv(&publish(&[row("MET", "2026-Q1", 4)]));
        assert!(csv.contains("MET,2026-Q1,[c],"), "{csv}");
    }
}
