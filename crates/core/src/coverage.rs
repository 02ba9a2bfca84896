//! The coverage figure: over current communes × document types, asked
//! without a date, the share of answers that are complete.
//!
//! An answer is *complete* when every period of its timeline is either held
//! by a named holder (a known service, or a holder the answer can name for
//! the commune, such as "Archives départementales de l'Ain") or explicitly
//! uncovered with a reason (a rule saying why no holder can be stated for
//! every commune). A period no rule covers, or a rule naming a service that
//! does not exist, makes the answer incomplete.

use chrono::NaiveDate;

use crate::locate::When;
use crate::snapshot::Snapshot;
use crate::territory::CommuneKind;

/// Counts of complete answers, overall and by document type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Current communes looked at.
    pub communes: usize,
    /// Questions asked (communes × document types).
    pub questions: usize,
    /// Complete answers.
    pub complete: usize,
    /// `(document type, questions, complete)`, in the snapshot's order.
    pub by_document_type: Vec<(String, usize, usize)>,
}

impl Coverage {
    /// The share of complete answers, in percent.
    pub fn percent(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            100.0 * self.complete as f64 / self.questions as f64
        }
    }
}

/// Computes the coverage over every current commune, or over `sample`
/// communes taken at a regular stride (deterministic) when given.
pub fn coverage(snapshot: &Snapshot, sample: Option<usize>, today: NaiveDate) -> Coverage {
    let current: Vec<_> = snapshot
        .territories()
        .communes()
        .iter()
        .filter(|c| c.kind == CommuneKind::Current)
        .collect();
    let chosen: Vec<_> = match sample {
        Some(n) if n > 0 && n < current.len() => {
            let stride = current.len() as f64 / n as f64;
            (0..n)
                .map(|i| current[(i as f64 * stride) as usize])
                .collect()
        }
        _ => current,
    };
    let mut out = Coverage {
        communes: chosen.len(),
        ..Coverage::default()
    };
    for doc in snapshot.document_types() {
        let mut complete = 0;
        for c in &chosen {
            if let Ok(a) = snapshot.locate(doc.slug.as_str(), c.code.as_str(), When::Unknown, today)
                && a.is_complete()
            {
                complete += 1;
            }
        }
        out.questions += chosen.len();
        out.complete += complete;
        out.by_document_type
            .push((doc.slug.to_string(), chosen.len(), complete));
    }
    out
}

/// How specific the answer for one commune and document type is: the most
/// specific territory among the rules of its timeline, asked without a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Specificity {
    /// A rule of the commune (or its former code) or of its EPCI.
    Local,
    /// A rule of its département, none more specific.
    Departement,
    /// Only national rules.
    National,
    /// Some period has no rule, or a rule naming a service that does not
    /// exist (the answer is not complete), or there is no rule at all.
    Uncovered,
}

impl Specificity {
    /// Every value, most specific first (the order of counts).
    pub const ALL: [Specificity; 4] = [
        Specificity::Local,
        Specificity::Departement,
        Specificity::National,
        Specificity::Uncovered,
    ];

    /// The key used in open data.
    pub fn key(self) -> &'static str {
        match self {
            Specificity::Local => "local",
            Specificity::Departement => "departement",
            Specificity::National => "national",
            Specificity::Uncovered => "uncovered",
        }
    }

    /// Of an answer: incomplete answers are uncovered; otherwise the most
    /// specific territory among the rules of its periods (held or
    /// explicitly left without a holder).
    pub fn of(answer: &crate::snapshot::Answer<'_>) -> Specificity {
        if !answer.is_complete() {
            return Specificity::Uncovered;
        }
        let level = answer
            .matches
            .iter()
            .map(|m| m.rule.territory.level())
            .chain(answer.unstated.iter().map(|u| u.rule.territory.level()))
            .min();
        match level {
            Some(1 | 2) => Specificity::Local,
            Some(3) => Specificity::Departement,
            Some(_) => Specificity::National,
            None => Specificity::Uncovered,
        }
    }
}

/// Communes by specificity, in the order of [`Specificity::ALL`].
pub type Counts = [u32; 4];

/// The specificity of every current commune × document type, counted by
/// département.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageMap {
    /// Document type slugs, in the snapshot's order.
    pub document_types: Vec<String>,
    /// By département code, in code order.
    pub departements: Vec<DepartementCoverage>,
}

/// One département's counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartementCoverage {
    pub code: String,
    /// Its current communes.
    pub communes: u32,
    /// Per document type, in the order of [`CoverageMap::document_types`].
    pub counts: Vec<Counts>,
}

/// Computes the map over every current commune (one locate per commune ×
/// document type: a few seconds for France, to be cached by the caller).
pub fn coverage_map(snapshot: &Snapshot, today: NaiveDate) -> CoverageMap {
    let docs = snapshot.document_types();
    let mut by_dept: std::collections::BTreeMap<&str, DepartementCoverage> =
        std::collections::BTreeMap::new();
    for c in snapshot
        .territories()
        .communes()
        .iter()
        .filter(|c| c.kind == CommuneKind::Current)
    {
        let d = by_dept
            .entry(c.departement.as_str())
            .or_insert_with(|| DepartementCoverage {
                code: c.departement.clone(),
                communes: 0,
                counts: vec![[0; 4]; docs.len()],
            });
        d.communes += 1;
        for (i, doc) in docs.iter().enumerate() {
            let s = match snapshot.locate(doc.slug.as_str(), c.code.as_str(), When::Unknown, today)
            {
                Ok(a) => Specificity::of(&a),
                Err(_) => Specificity::Uncovered,
            };
            d.counts[i][s as usize] += 1;
        }
    }
    CoverageMap {
        document_types: docs.iter().map(|d| d.slug.to_string()).collect(),
        departements: by_dept.into_values().collect(),
    }
}
