//! Finding holding rules whose periods overlap, in O(n log n): rules are
//! grouped by (document type, territory) and sorted by start.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::NaiveDate;

use crate::codes::Slug;
use crate::reference::{HoldingRule, Territory};

/// A rule's period as of `today`, open ends made explicit.
fn span(r: &HoldingRule, today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        r.start(today).unwrap_or(NaiveDate::MIN),
        r.end(today).unwrap_or(NaiveDate::MAX),
    )
}

fn group_order(a: &HoldingRule, b: &HoldingRule) -> Ordering {
    a.document_type
        .cmp(&b.document_type)
        .then_with(|| a.territory.cmp(&b.territory))
}

/// Among `rules` (none of which has an empty period), finds each rule that
/// overlaps a rule starting no later than it, with the same document type
/// and territory. Returns `(index, index of an earlier-starting rule it
/// overlaps)` pairs; each overlapping rule appears at most once.
pub(crate) fn overlaps_within(rules: &[&HoldingRule], today: NaiveDate) -> Vec<(usize, usize)> {
    let spans: Vec<(NaiveDate, NaiveDate)> = rules.iter().map(|r| span(r, today)).collect();
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by(|&a, &b| {
        group_order(rules[a], rules[b])
            .then_with(|| spans[a].0.cmp(&spans[b].0))
            .then_with(|| a.cmp(&b))
    });
    let mut found = Vec::new();
    // The rule reaching furthest so far in the current group.
    let mut reach: Option<usize> = None;
    for &i in &order {
        match reach {
            Some(r) if group_order(rules[r], rules[i]) == Ordering::Equal => {
                if spans[i].0 <= spans[r].1 && rules[r].overlaps(rules[i], today) {
                    found.push((i, r));
                }
                if spans[i].1 > spans[r].1 {
                    reach = Some(i);
                }
            }
            _ => reach = Some(i),
        }
    }
    found.sort_unstable();
    found
}

/// Rules that may overlap share a document type and a territory.
type Group<'a> = (&'a Slug, &'a Territory);

/// For each of `incoming`, an `existing` rule of the same document type and
/// territory whose period overlaps it, if any. Rules with an empty period
/// cover no day and are ignored. Returns `(incoming index, existing index)`.
pub(crate) fn overlaps_with(
    incoming: &[&HoldingRule],
    existing: &[&HoldingRule],
    today: NaiveDate,
) -> Vec<(usize, usize)> {
    // Per group: existing rules sorted by start, with the running maximum
    // of their ends (and which rule reaches it).
    let mut groups: HashMap<Group<'_>, Vec<(NaiveDate, NaiveDate, usize)>> = HashMap::new();
    for (j, r) in existing.iter().enumerate() {
        if r.is_empty_period(today) {
            continue;
        }
        let (s, e) = span(r, today);
        groups
            .entry((&r.document_type, &r.territory))
            .or_default()
            .push((s, e, j));
    }
    let mut reach: HashMap<Group<'_>, Vec<(NaiveDate, usize)>> = HashMap::new();
    for (key, list) in &mut groups {
        list.sort_unstable();
        let mut best: Option<(NaiveDate, usize)> = None;
        let prefix = list
            .iter()
            .map(|&(_, e, j)| {
                if best.is_none_or(|(b, _)| e > b) {
                    best = Some((e, j));
                }
                best.unwrap_or((e, j))
            })
            .collect();
        reach.insert(*key, prefix);
    }
    let mut found = Vec::new();
    for (i, r) in incoming.iter().enumerate() {
        if r.is_empty_period(today) {
            continue;
        }
        let key = (&r.document_type, &r.territory);
        let (Some(list), Some(prefix)) = (groups.get(&key), reach.get(&key)) else {
            continue;
        };
        let (s, e) = span(r, today);
        // Existing rules starting on or before our end...
        let n = list.partition_point(|&(start, _, _)| start <= e);
        // ...of which the one reaching furthest must reach our start.
        if n > 0 {
            let (end, j) = prefix[n - 1];
            if end >= s && existing[j].overlaps(r, today) {
                found.push((i, j));
            }
        }
    }
    found
}

/// `du 1908-01-01 au 2015-06-30`, `à partir du …`, `jusqu'au …`.
pub(crate) fn describe_period(r: &HoldingRule, today: NaiveDate) -> String {
    let f = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    match (r.start(today), r.end(today)) {
        (Some(s), Some(e)) => format!("du {} au {}", f(s), f(e)),
        (Some(s), None) => format!("à partir du {}", f(s)),
        (None, Some(e)) => format!("jusqu'au {}", f(e)),
        (None, None) => "sans limite de dates".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{Bound, ServiceRef};

    fn rule(doc: &str, territory: &str, from: Option<&str>, to: Option<&str>) -> HoldingRule {
        HoldingRule {
            document_type: Slug::parse(doc).unwrap(),
            territory: Territory::parse(territory).unwrap(),
            from: from.map(|b| Bound::parse(b).unwrap().0),
            to: to.map(|b| Bound::parse(b).unwrap().0),
            service: ServiceRef::TOWN_HALL_REF,
            instructions: None,
            source: None,
            verified_at: None,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    /// The quadratic reference.
    fn naive(rules: &[&HoldingRule]) -> Vec<usize> {
        (0..rules.len())
            .filter(|&i| {
                (0..rules.len()).any(|j| {
                    j != i
                        && group_order(rules[i], rules[j]) == Ordering::Equal
                        && rules[i].overlaps(rules[j], today())
                        && (span(rules[j], today()).0, j) < (span(rules[i], today()).0, i)
                })
            })
            .collect()
    }

    #[test]
    fn finds_overlaps_like_the_quadratic_check() {
        let rules = [
            rule("pc", "commune:35238", None, Some("1907")),
            rule("pc", "commune:35238", Some("1908"), Some("2015-06-30")),
            rule("pc", "commune:35238", Some("2015-07-01"), None),
            rule("pc", "commune:35047", Some("1950"), Some("2000")),
            rule("pc", "commune:35047", Some("1960"), Some("1970")),
            rule("pc", "commune:35047", Some("1999"), None),
            rule("ec", "commune:35238", Some("2000"), None),
            rule("ec", "france", None, Some("-75y")),
            rule("ec", "france", Some("-75y"), None),
        ];
        let refs: Vec<&HoldingRule> = rules.iter().collect();
        let found = overlaps_within(&refs, today());
        assert_eq!(found, vec![(4, 3), (5, 3)]);
        assert_eq!(found.iter().map(|p| p.0).collect::<Vec<_>>(), naive(&refs));
    }

    #[test]
    fn finds_overlaps_with_existing_rules() {
        let existing = [
            rule("pc", "commune:35238", Some("1908"), Some("2015-06-30")),
            rule("pc", "commune:35238", Some("1800"), Some("1850")),
            rule("pc", "commune:35238", Some("2020"), Some("2019")), // empty
        ];
        let incoming = [
            rule("pc", "commune:35238", Some("2015-07-01"), None),
            rule("pc", "commune:35238", Some("2015"), Some("2015")),
            rule("pc", "commune:35238", None, Some("1800")),
            rule("pc", "commune:35047", Some("1900"), None),
            rule("pc", "commune:35238", Some("1860"), Some("1900")),
        ];
        let e: Vec<&HoldingRule> = existing.iter().collect();
        let i: Vec<&HoldingRule> = incoming.iter().collect();
        assert_eq!(overlaps_with(&i, &e, today()), vec![(1, 0), (2, 1)]);
        assert_eq!(
            describe_period(&existing[0], today()),
            "du 1908-01-01 au 2015-06-30"
        );
        assert_eq!(
            describe_period(&incoming[0], today()),
            "à partir du 2015-07-01"
        );
        assert_eq!(
            describe_period(&incoming[2], today()),
            "jusqu'au 1800-12-31"
        );
    }
}
