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
