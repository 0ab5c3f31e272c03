//! A subject's history across orders: how many orders and breaches the same person has, and whether their orders
//! protect more than one person (a repeat perpetrator).
//!
//! The match rule: two orders have the same subject when they record the same date of birth and share at least one
//! name once normalised (`name_key`: case, spacing and punctuation ignored), over every name each subject is known
//! by. An order without the subject's date of birth matches nothing: a name alone is too weak to combine records on.
//! The rule can miss a subject recorded under unrelated names, and can join two people who share a name and a date of
//! birth; the figures are a prompt for an officer's inquiry, not a finding.

use super::name_key;
use chrono::NaiveDate;
use std::collections::BTreeSet;

/// What the record holds of one subject across their orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectHistory {
    /// Orders against this subject, the one asked about included.
    pub orders: usize,
    /// Breaches of those orders.
    pub breaches: usize,
    /// Different people those orders protect (by normalised name and date of birth).
    pub people_protected: usize,
}

impl SubjectHistory {
    /// Orders protecting more than one person: the pattern the super-complaint asks forces to see.
    pub fn repeat_perpetrator(&self) -> bool {
        self.people_protected > 1
    }
}

/// The history of matched orders, from their breach count and the people they protect.
pub fn summarise(
    orders: usize,
    breaches: usize,
    protected: &[(String, Option<NaiveDate>)],
) -> SubjectHistory {
    let people: BTreeSet<(String, Option<NaiveDate>)> = protected
        .iter()
        .map(|(name, dob)| (name_key(name), *dob))
        .collect();
    SubjectHistory {
        orders,
        breaches,
        people_protected: people.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_person_under_different_spellings_counts_once() {
        let dob = Some("1990-01-01".parse().unwrap());
        let h = summarise(
            2,
            3,
            &[("Pat O'Brien".into(), dob), ("pat o brien".into(), dob)],
        );
        assert_eq!(h.people_protected, 1);
        assert!(!h.repeat_perpetrator());
        let two = summarise(
            2,
            0,
            &[("Pat O'Brien".into(), dob), ("Alex Other".into(), dob)],
        );
        assert!(two.repeat_perpetrator());
    }
}
