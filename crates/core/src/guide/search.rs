//! The « Je cherche… » field: finding a document type from what people
//! type, and entering a guide with it.

use crate::reference::DocumentType;
use crate::text::{fold, words};

use super::{Answers, DOCUMENT_TYPE, Guide};

/// Small words ignored when matching (« acte de vente » ~ « acte vente »).
const STOP_WORDS: [&str; 14] = [
    "de", "du", "des", "d", "la", "le", "les", "l", "un", "une", "mon", "ma", "mes", "et",
];

/// The document types matching what a person typed, best first, at most
/// `limit`. Case, accents and punctuation are ignored; a match is an exact
/// label or alias (`PC`, « acte de vente »), a label or alias starting with
/// the query, or every query word starting a word of the label or aliases.
pub fn find_documents<'d>(
    query: &str,
    docs: &'d [DocumentType],
    limit: usize,
) -> Vec<&'d DocumentType> {
    let q = fold(query);
    let q_words: Vec<&str> = words(&q).filter(|w| !STOP_WORDS.contains(w)).collect();
    if q_words.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u8, usize, &DocumentType)> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let names: Vec<String> = std::iter::once(doc.label.as_str())
            .chain(doc.aliases.iter().map(String::as_str))
            .map(fold)
            .collect();
        let score = names
            .iter()
            .map(|n| score(&q, &q_words, n))
            .max()
            .unwrap_or(0);
        if score > 0 {
            scored.push((score, i, doc));
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, _, d)| d).collect()
}

fn score(q: &str, q_words: &[&str], name: &str) -> u8 {
    if name == q {
        return 4;
    }
    if name.starts_with(q) && name[q.len()..].starts_with(' ') {
        return 3;
    }
    let n_words: Vec<&str> = words(name).filter(|w| !STOP_WORDS.contains(w)).collect();
    if q_words.iter().all(|qw| n_words.iter().any(|nw| nw == qw)) {
        return 2;
    }
    // Words typed that start a word of the name, or that a word of five
    // letters or more starts (« mitoyenneté » ~ « mitoyen »).
    if q_words.iter().all(|qw| {
        n_words
            .iter()
            .any(|nw| nw.starts_with(qw) || (nw.len() >= 5 && qw.starts_with(nw)))
    }) {
        return 1;
    }
    0
}

/// A need a guide lists (a choice that leads to document types), matching
/// what a person typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Need<'g> {
    pub guide: &'g Guide,
    /// The choice's label, as the guide words the need.
    pub label: &'g str,
    /// The document types the choice leads to.
    pub document_types: Vec<&'g str>,
}

impl Need<'_> {
    /// The answers that enter the guide with this need's document types,
    /// past the steps that find the document.
    pub fn answers(&self) -> Answers {
        Answers::from_pairs(self.document_types.iter().map(|d| (DOCUMENT_TYPE, *d)))
    }
}

/// The needs the guides list that match what a person typed, best first,
/// at most `limit`: every choice (of every guide given) that sets document
/// types, matched on its label (first) and its help as [`find_documents`]
/// matches labels. A need met by the same guide with the same documents is given
/// once.
pub fn find_needs<'g>(
    query: &str,
    guides: impl IntoIterator<Item = &'g Guide>,
    limit: usize,
) -> Vec<Need<'g>> {
    let q = fold(query);
    let q_words: Vec<&str> = words(&q).filter(|w| !STOP_WORDS.contains(w)).collect();
    if q_words.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u8, usize, Need<'g>)> = Vec::new();
    for guide in guides {
        for step in &guide.steps {
            for choice in &step.choices {
                let Some(set) = choice.set.get(DOCUMENT_TYPE) else {
                    continue;
                };
                // The label says the need; its help only explains it: a match
                // there ranks below any match on a label.
                let on_label = 2 * score(&q, &q_words, &fold(&choice.label));
                let on_help = choice
                    .help
                    .as_deref()
                    .map_or(0, |h| score(&q, &q_words, &fold(h)).min(1));
                let best = on_label.max(on_help);
                if best == 0 {
                    continue;
                }
                let need = Need {
                    guide,
                    label: &choice.label,
                    document_types: set.as_slice().iter().map(String::as_str).collect(),
                };
                let same = scored.iter().any(|(_, _, n)| {
                    std::ptr::eq(n.guide, guide) && n.document_types == need.document_types
                });
                if !same {
                    let order = scored.len();
                    scored.push((best, order, need));
                }
            }
        }
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(limit).map(|(_, _, n)| n).collect()
}

/// The answers that enter `guide` with the document type `slug` chosen:
/// `document_type=<slug>`, which passes the steps that find the document.
/// `None` when the guide never leads to that document type.
pub fn branch_for_document(guide: &Guide, slug: &str) -> Option<Answers> {
    guide
        .document_types()
        .contains(&slug)
        .then(|| Answers::from_pairs([(DOCUMENT_TYPE, slug)]))
}
