//! Import plans: what importing a file would change in the reference data.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use chrono::NaiveDate;

use super::overlap::{describe_period, overlaps_with};
use super::report::{Rejected, Report, count};
use crate::reference::{DocumentType, HoldingRule, Service, Territory};

/// What an import would do: rows to add, rows to change (old, new), rows to
/// remove (only with `replace`), and how many rows are already up to date.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<T> {
    /// New rows, in file order.
    pub add: Vec<T>,
    /// `(old, new)` pairs for rows whose key exists with other values, in
    /// file order.
    pub update: Vec<(T, T)>,
    /// Existing rows absent from the file, in their existing order.
    pub remove: Vec<T>,
    /// Rows of the file identical to the existing ones.
    pub unchanged: usize,
}

impl<T> Plan<T> {
    /// Whether applying the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        self.add.is_empty() && self.update.is_empty() && self.remove.is_empty()
    }

    /// `2 ajouts, 1 modification, 0 suppression, 5 sans changement`.
    pub fn summary(&self) -> String {
        format!(
            "{}, {}, {}, {} sans changement",
            count(self.add.len(), "ajout", "ajouts"),
            count(self.update.len(), "modification", "modifications"),
            count(self.remove.len(), "suppression", "suppressions"),
            self.unchanged
        )
    }
}

/// The plan for rows identified by `key`. Of rows sharing a key in
/// `incoming`, the first wins (files read by `read_*` have unique keys).
/// With `replace`, existing rows absent from `incoming` for which `in_scope`
/// holds are removed.
fn plan_by_key<T: Clone + PartialEq, K: Hash + Eq>(
    existing: &[T],
    incoming: Vec<(u64, T)>,
    replace: bool,
    key: impl Fn(&T) -> K,
    in_scope: impl Fn(&T) -> bool,
) -> Plan<T> {
    let index: HashMap<K, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, t)| (key(t), i))
        .collect();
    let mut seen: HashSet<K> = HashSet::with_capacity(incoming.len());
    let mut plan = Plan {
        add: Vec::new(),
        update: Vec::new(),
        remove: Vec::new(),
        unchanged: 0,
    };
    for (_, new) in incoming {
        let k = key(&new);
        match index.get(&k) {
            _ if seen.contains(&k) => continue,
            Some(&i) if existing[i] == new => plan.unchanged += 1,
            Some(&i) => plan.update.push((existing[i].clone(), new)),
            None => plan.add.push(new),
        }
        seen.insert(k);
    }
    if replace {
        plan.remove = existing
            .iter()
            .filter(|t| !seen.contains(&key(t)) && in_scope(t))
            .cloned()
            .collect();
    }
    plan
}

/// Plans importing document types, keyed by slug. With `replace`, document
/// types absent from the file are removed.
pub fn plan_document_types(
    existing: &[DocumentType],
    incoming: Vec<(u64, DocumentType)>,
    replace: bool,
) -> Plan<DocumentType> {
    plan_by_key(existing, incoming, replace, |d| d.slug.clone(), |_| true)
}

/// Plans importing services, keyed by id. With `replace`, services absent
/// from the file are removed.
pub fn plan_services(
    existing: &[Service],
    incoming: Vec<(u64, Service)>,
    replace: bool,
) -> Plan<Service> {
    plan_by_key(existing, incoming, replace, |s| s.id.clone(), |_| true)
}

/// Plans importing holding rules, keyed by (document type, territory,
/// from). With `replace`, existing rules absent from the file are removed,
/// but only on the territories the file mentions.
///
/// `incoming` is expected as returned by [`read_holdings`](super::read_holdings):
/// unique keys, no overlaps among themselves.
///
/// Also refuses the import when an incoming rule overlaps an existing rule
/// that stays (same document type and territory, periods sharing a day as
/// of `today`), naming the line and describing the existing rule.
pub fn plan_holdings(
    existing: &[HoldingRule],
    incoming: Vec<(u64, HoldingRule)>,
    replace: bool,
    today: NaiveDate,
) -> Result<Plan<HoldingRule>, Rejected> {
    let territories: HashSet<Territory> =
        incoming.iter().map(|(_, r)| r.territory.clone()).collect();
    let incoming_keys: HashSet<_> = incoming.iter().map(|(_, r)| r.key()).collect();
    let staying: Vec<&HoldingRule> = existing
        .iter()
        .filter(|r| {
            !(incoming_keys.contains(&r.key()) || (replace && territories.contains(&r.territory)))
        })
        .collect();
    let rules: Vec<&HoldingRule> = incoming.iter().map(|(_, r)| r).collect();
    let mut report = Report::default();
    for (i, j) in overlaps_with(&rules, &staying, today) {
        let other = staying[j];
        report.error(
            incoming[i].0,
            None,
            format!(
                "chevauche la règle existante {} / {} {} ({})",
                other.document_type,
                other.territory,
                describe_period(other, today),
                other.service
            ),
        );
    }
    if report.has_errors() {
        return Err(report.into_rejected());
    }
    Ok(plan_by_key(
        existing,
        incoming,
        replace,
        HoldingRule::key,
        |r| territories.contains(&r.territory),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Slug;
    use crate::formats::tests::today;
    use crate::reference::{Bound, ServiceRef};

    fn doc(slug: &str, label: &str) -> DocumentType {
        DocumentType {
            slug: Slug::parse(slug).unwrap(),
            label: label.into(),
            theme: None,
            aliases: vec![],
            description: None,
            communicability_years: 0,
            communicability_note: None,
        }
    }

    fn rule(
        doc: &str,
        territory: &str,
        from: Option<&str>,
        to: Option<&str>,
        service: &str,
    ) -> HoldingRule {
        HoldingRule {
            document_type: Slug::parse(doc).unwrap(),
            territory: Territory::parse(territory).unwrap(),
            from: from.map(|b| Bound::parse(b).unwrap().0),
            to: to.map(|b| Bound::parse(b).unwrap().0),
            service: ServiceRef::parse(service).unwrap(),
            instructions: None,
            source: None,
            verified_at: None,
        }
    }

    fn numbered<T>(rows: Vec<T>) -> Vec<(u64, T)> {
        rows.into_iter().zip(2..).map(|(t, l)| (l, t)).collect()
    }

    #[test]
    fn document_types_add_update_remove() {
        let existing = vec![doc("a", "A"), doc("b", "B"), doc("c", "C")];
        let incoming = numbered(vec![doc("b", "B"), doc("c", "C2"), doc("d", "D")]);
        let plan = plan_document_types(&existing, incoming.clone(), false);
        assert_eq!(plan.add, vec![doc("d", "D")]);
        assert_eq!(plan.update, vec![(doc("c", "C"), doc("c", "C2"))]);
        assert!(plan.remove.is_empty());
        assert_eq!(plan.unchanged, 1);
        assert_eq!(
            plan.summary(),
            "1 ajout, 1 modification, 0 suppression, 1 sans changement"
        );
        let plan = plan_document_types(&existing, incoming, true);
        assert_eq!(plan.remove, vec![doc("a", "A")]);
        assert!(!plan.is_noop());
        let same = plan_document_types(&existing, numbered(existing.clone()), true);
        assert!(same.is_noop());
        assert_eq!(same.unchanged, 3);
    }

    #[test]
    fn services_are_keyed_by_id() {
        use crate::reference::ServiceKind;
        let s =
            |id: &str, name: &str| Service::new(Slug::parse(id).unwrap(), name, ServiceKind::Autre);
        let existing = vec![s("x", "X"), s("y", "Y")];
        let plan = plan_services(&existing, numbered(vec![s("y", "Y bis")]), true);
        assert_eq!(plan.update, vec![(s("y", "Y"), s("y", "Y bis"))]);
        assert_eq!(plan.remove, vec![s("x", "X")]);
        assert!(plan.add.is_empty());
    }

    #[test]
    fn holdings_replace_only_on_the_territories_of_the_file() {
        let existing = vec![
            rule(
                "pc",
                "commune:35238",
                Some("1908"),
                Some("2015-06-30"),
                "archives-rennes",
            ),
            rule("pc", "commune:35238", Some("2015-07-01"), None, "@mairie"),
            rule("ec", "commune:35238", None, None, "@mairie"),
            rule("pc", "commune:35047", None, None, "@mairie"),
        ];
        let incoming = numbered(vec![
            rule(
                "pc",
                "commune:35238",
                Some("1908"),
                Some("2015-06-30"),
                "archives-rennes",
            ),
            rule(
                "pc",
                "commune:35238",
                Some("2015-07-01"),
                None,
                "urbanisme-rennes",
            ),
        ]);
        let plan = plan_holdings(&existing, incoming.clone(), false, today()).unwrap();
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.update.len(), 1);
        assert!(plan.remove.is_empty());
        let plan = plan_holdings(&existing, incoming, true, today()).unwrap();
        // Rennes' other rule goes; the other commune is untouched.
        assert_eq!(plan.remove, vec![existing[2].clone()]);
    }

    #[test]
    fn holdings_must_not_overlap_the_rules_that_stay() {
        let existing = vec![
            rule(
                "permis-de-construire",
                "commune:35238",
                Some("1908"),
                Some("2015-06-30"),
                "archives-rennes",
            ),
            rule(
                "permis-de-construire",
                "commune:35238",
                Some("2015-07-01"),
                None,
                "@mairie",
            ),
        ];
        let incoming = vec![
            (
                3,
                rule(
                    "permis-de-construire",
                    "commune:35238",
                    Some("1800"),
                    Some("1907"),
                    "archives-35",
                ),
            ),
            (
                4,
                rule(
                    "permis-de-construire",
                    "commune:35238",
                    Some("2000"),
                    Some("2010"),
                    "archives-35",
                ),
            ),
            (
                5,
                rule(
                    "permis-de-construire",
                    "commune:35238",
                    Some("2015-07-01"),
                    None,
                    "urbanisme-rennes",
                ),
            ),
        ];
        let rejected = plan_holdings(&existing, incoming.clone(), false, today()).unwrap_err();
        let errors: Vec<String> = rejected.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            vec![
                "ligne 4 : chevauche la règle existante permis-de-construire / commune:35238 du 1908-01-01 au 2015-06-30 (archives-rennes)"
            ]
        );
        // Replacing the commune's rules removes the conflict.
        let plan = plan_holdings(&existing, incoming, true, today()).unwrap();
        assert_eq!(plan.add.len(), 2);
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.remove, vec![existing[0].clone()]);
    }
}
