//! The shape of the holding rules of one document type and territory over
//! time, as the back office shows it: the gaps between consecutive rules and
//! the rules that overlap.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::codes::Slug;
use crate::reference::{HoldingRule, Territory};

/// A period between two rules of one document type and territory that no
/// rule of theirs covers: there, the public answer falls back to a more
/// general level (or to the general advice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub document_type: Slug,
    pub territory: Territory,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The index, in the rules given, of the rule the gap follows.
    pub after: usize,
}

/// The gaps between consecutive rules of each document type and territory.
/// Days before the first rule or after the last one are not gaps: there a
/// more general level answers by design.
pub fn gaps(rules: &[&HoldingRule], today: NaiveDate) -> Vec<Gap> {
    let mut groups: BTreeMap<(&Slug, &Territory), Vec<usize>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        if !r.is_empty_period(today) {
            groups
                .entry((&r.document_type, &r.territory))
                .or_default()
                .push(i);
        }
    }
    let mut out = vec![];
    for ((document_type, territory), mut group) in groups {
        group.sort_by_key(|&i| rules[i].start(today).unwrap_or(NaiveDate::MIN));
        // The last day covered so far, and the rule that covers it.
        let mut covered: Option<(NaiveDate, usize)> = None;
        for i in group {
            let start = rules[i].start(today).unwrap_or(NaiveDate::MIN);
            let end = rules[i].end(today).unwrap_or(NaiveDate::MAX);
            if let Some((until, after)) = covered
                && let (Some(first), Some(last)) = (until.succ_opt(), start.pred_opt())
                && first <= last
            {
                out.push(Gap {
                    document_type: document_type.clone(),
                    territory: territory.clone(),
                    first,
                    last,
                    after,
                });
            }
            if covered.is_none_or(|(until, _)| until < end) {
                covered = Some((end, i));
            }
        }
    }
    out
}

/// Pairs `(i, j)` of rules of one document type and territory whose periods
/// share a day, `j` starting no later than `i`; each rule appears at most
/// once as `i`.
pub fn overlaps(rules: &[&HoldingRule], today: NaiveDate) -> Vec<(usize, usize)> {
    let kept: Vec<usize> = (0..rules.len())
        .filter(|&i| !rules[i].is_empty_period(today))
        .collect();
    let subset: Vec<&HoldingRule> = kept.iter().map(|&i| rules[i]).collect();
    crate::formats::overlap::overlaps_within(&subset, today)
        .into_iter()
        .map(|(a, b)| (kept[a], kept[b]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{Bound, ServiceRef};

    fn rule(from: &str, to: &str) -> HoldingRule {
        let b = |s: &str| (!s.is_empty()).then(|| Bound::parse(s).unwrap().0);
        HoldingRule {
            document_type: Slug::parse("permis-de-construire").unwrap(),
            territory: Territory::parse("commune:35238").unwrap(),
            from: b(from),
            to: b(to),
            service: ServiceRef::parse("svc").unwrap(),
            instructions: None,
            source: None,
            verified_at: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn a_gap_between_two_rules_is_found_and_the_ends_are_not_gaps() {
        let a = rule("1908", "1950");
        let b = rule("1960", "");
        let found = gaps(&[&b, &a], today());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].first, NaiveDate::from_ymd_opt(1951, 1, 1).unwrap());
        assert_eq!(
            found[0].last,
            NaiveDate::from_ymd_opt(1959, 12, 31).unwrap()
        );
        assert_eq!(found[0].after, 1, "the gap follows rule a (index 1)");
        assert!(gaps(&[&rule("1908", "1950"), &rule("1951", "")], today()).is_empty());
    }

    #[test]
    fn overlapping_rules_are_paired() {
        let a = rule("1908", "1950");
        let b = rule("1940", "");
        let c = rule("1800", "1801");
        assert_eq!(overlaps(&[&c, &a, &b], today()), vec![(2, 1)]);
        assert!(overlaps(&[&a, &rule("1951", "")], today()).is_empty());
    }
}
