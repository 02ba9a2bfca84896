//! Guides as data: the questions a person answers to learn which document
//! they need, who holds it and whether they may consult it.
//!
//! A guide is a TOML document ([`parse`], [`to_toml`]) made of ordered
//! [`Step`]s. The state of a person's progress lives entirely in the URL's
//! query string ([`Answers`]); [`run`] walks the guide from its first step
//! with those answers and says which step to ask now, or which result to
//! show. [`validate`] checks a guide before it is published.
//!
//! The format, the URL contract and the validation rules are documented in
//! `docs/guides.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codes::Slug;

mod answers;
mod format;
mod run;
mod search;
mod validate;

pub use answers::{Answers, percent_decode, percent_encode};
pub use format::{GuideError, parse, to_toml};
pub use run::{
    Answered, Current, GuideEnv, MAX_VALUE_CHARS, MAX_WALK, StepError, Walk, parse_period, run,
};
pub use search::{Need, branch_for_document, find_documents, find_needs};
pub use validate::{Problem, validate};

/// Reserved variable: the document type(s) sought (document-type slugs).
pub const DOCUMENT_TYPE: &str = "document_type";
/// Reserved variable: the commune's INSEE code, set by a `commune` step.
pub const COMMUNE: &str = "commune";
/// Reserved variable: the year (four digits) or [`UNKNOWN`], set by a `date` step.
pub const YEAR: &str = "year";
/// The value posted for « Je ne sais pas ».
pub const UNKNOWN: &str = "inconnu";
/// Display parameters: carried along unchanged, never used by a step.
/// `run` is the random id that links the pages of one guide run for
/// anonymous audience measurement (no cookie).
pub const DISPLAY_PARAMS: [&str; 8] = [
    "lang",
    "theme",
    "color",
    "font",
    "site",
    "embed",
    HOST_COMMUNE,
    RUN,
];

/// The run id a guide page carries in its address (see `docs/analytics.md`).
pub const RUN: &str = "run";

/// The commune a host page presets (a town hall's widget): it stands for
/// the commune whenever none is given, so that starting again or changing
/// an earlier answer keeps it; a visitor from elsewhere drops it with the
/// « changer de commune » link.
pub const HOST_COMMUNE: &str = "host_commune";
/// Reserved variable: set to [`OWN_RECORD_YES`] by a choice when the person
/// asks for a record about themselves (their own act, their own judgment),
/// so that the answer leads with what they may obtain now rather than with
/// the date from which anyone may consult it.
pub const OWN_RECORD: &str = "own_record";
/// The one value [`OWN_RECORD`] takes.
pub const OWN_RECORD_YES: &str = "oui";
/// Variables the engine itself gives a meaning to.
pub const STATE_VARS: [&str; 4] = [DOCUMENT_TYPE, COMMUNE, YEAR, OWN_RECORD];
/// The default label of the « Je ne sais pas » answer.
pub const UNKNOWN_LABEL: &str = "Je ne sais pas";

/// Whether a query parameter name is reserved by the engine.
pub fn is_reserved(name: &str) -> bool {
    STATE_VARS.contains(&name) || DISPLAY_PARAMS.contains(&name)
}

/// A guide: a versioned, ordered list of steps; the first step is the start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    /// Identifier used in URLs: `/g/{slug}`.
    pub slug: Slug,
    /// Incremented by the author at each published change.
    #[serde(default = "first_version")]
    pub version: u32,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Optional translations, keyed by language code (`en`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, Translation>,
    pub steps: Vec<Step>,
}

fn first_version() -> u32 {
    1
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What a step asks or shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// One answer among several.
    Choice,
    /// Several answers; the `set` values of every selected choice add up.
    Multiple,
    /// Asks for the commune: sets `commune`.
    Commune,
    /// Asks for the year: sets `year` (four digits or `inconnu`).
    Date,
    /// Explanatory content with a « Continuer » button.
    Info,
    /// Terminal: runs the locate engine.
    Result,
    /// Terminal: we cannot help with that yet.
    DeadEnd,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Choice => "choice",
            StepKind::Multiple => "multiple",
            StepKind::Commune => "commune",
            StepKind::Date => "date",
            StepKind::Info => "info",
            StepKind::Result => "result",
            StepKind::DeadEnd => "dead_end",
        }
    }

    /// Whether the walk stops at this step for good.
    pub fn is_terminal(self) -> bool {
        matches!(self, StepKind::Result | StepKind::DeadEnd)
    }

    /// Whether the step offers a list of choices.
    pub fn has_choices(self) -> bool {
        matches!(self, StepKind::Choice | StepKind::Multiple)
    }
}

/// One step of a guide. Which fields matter depends on `kind`; see
/// `docs/guides.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique within the guide; letters, digits, `-` and `_`.
    pub id: String,
    pub kind: StepKind,
    /// The question (or the heading of an info, result or dead-end step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// Help shown under the question. Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Body text (info, result, dead end). Plain text, paragraphs separated
    /// by blank lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The query parameter that carries the answer (choice, multiple, info);
    /// defaults to the step's id. `commune` and `date` steps always use
    /// `commune` and `year`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    /// The step id to go to once answered (or when skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Marks a step that only serves to find the document type, so that it
    /// is skipped when `document_type` is preset. Implied when a choice sets
    /// `document_type`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub finds_document: bool,
    /// Skip the step unless this holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Variables set when the step is passed (or reached, for a result).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Values>,
    /// Offers « Je ne sais pas » (choice and multiple steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Unknown>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
}

impl Step {
    /// The query parameter that carries this step's answer.
    pub fn var_name(&self) -> &str {
        match self.kind {
            StepKind::Commune => COMMUNE,
            StepKind::Date => YEAR,
            _ => self.var.as_deref().unwrap_or(&self.id),
        }
    }

    /// Whether the step only serves to find the document type.
    pub fn finds_document_type(&self) -> bool {
        self.finds_document
            || self
                .choices
                .iter()
                .any(|c| c.set.contains_key(DOCUMENT_TYPE))
    }

    /// The « Je ne sais pas » answer, when the step offers it.
    pub fn unknown_choice(&self) -> Option<UnknownChoice> {
        match &self.unknown {
            None | Some(Unknown::Enabled(false)) => None,
            Some(Unknown::Enabled(true)) => Some(UnknownChoice::default()),
            Some(Unknown::With(u)) => Some(u.clone()),
        }
    }

    /// The label of « Je ne sais pas » for this step.
    pub fn unknown_label(&self) -> Option<&str> {
        match &self.unknown {
            None | Some(Unknown::Enabled(false)) => None,
            Some(Unknown::Enabled(true)) => Some(UNKNOWN_LABEL),
            Some(Unknown::With(u)) => Some(u.label.as_deref().unwrap_or(UNKNOWN_LABEL)),
        }
    }

    /// The choice with this value.
    pub fn choice(&self, value: &str) -> Option<&Choice> {
        self.choices.iter().find(|c| c.value == value)
    }

    /// Every step id this step may lead to, with where the link is written.
    pub(crate) fn targets(&self) -> Vec<(&str, String)> {
        let mut out = Vec::new();
        for c in &self.choices {
            if let Some(g) = &c.goto {
                out.push((g.as_str(), format!("goto du choix « {} »", c.value)));
            }
        }
        if let Some(Unknown::With(UnknownChoice { goto: Some(g), .. })) = &self.unknown {
            out.push((g.as_str(), "goto de « Je ne sais pas »".to_owned()));
        }
        if let Some(n) = &self.next {
            out.push((n.as_str(), "next".to_owned()));
        }
        out
    }
}

/// One answer offered by a choice or multiple step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// What the form posts; unique within the step.
    pub value: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Where to go when chosen; defaults to the step's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goto: Option<String>,
    /// Variables this choice sets, e.g. `{ document_type = "cadastre" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Values>,
}

/// A variable's value(s) in a `set`: one text or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    pub fn as_slice(&self) -> &[String] {
        match self {
            Values::One(s) => std::slice::from_ref(s),
            Values::Many(v) => v,
        }
    }
}

/// `unknown = true` or `unknown = { label = "…", goto = "…" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Unknown {
    Enabled(bool),
    With(UnknownChoice),
}

/// The « Je ne sais pas » answer of a step.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnknownChoice {
    /// Defaults to « Je ne sais pas ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Defaults to the step's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goto: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: BTreeMap<String, Values>,
}

/// `when = { var = "…", in = […], not_in = […], is_set = true }`: every
/// part given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub var: String,
    /// Holds when one of the variable's values is in this list.
    #[serde(rename = "in", default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<String>>,
    /// Holds when none of the variable's values is in this list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<String>>,
    /// Holds when the variable has (`true`) or has not (`false`) a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_set: Option<bool>,
}

impl Condition {
    /// Evaluates the condition against the variables set so far.
    pub fn holds(&self, vars: &BTreeMap<String, Vec<String>>) -> bool {
        let values: &[String] = vars.get(&self.var).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(list) = &self.any_of
            && !values.iter().any(|v| list.contains(v))
        {
            return false;
        }
        if let Some(list) = &self.not_in
            && values.iter().any(|v| list.contains(v))
        {
            return false;
        }
        if let Some(set) = self.is_set
            && set == values.is_empty()
        {
            return false;
        }
        true
    }
}

/// A guide's texts in another language. Anything missing falls back to
/// French.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Keyed by step id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub steps: BTreeMap<String, StepTranslation>,
}

/// A step's texts in another language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTranslation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The label of « Je ne sais pas ».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// Choice labels, keyed by choice value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choices: BTreeMap<String, String>,
    /// Choice help texts, keyed by choice value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub choice_help: BTreeMap<String, String>,
}

impl Guide {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The guide with its texts in `lang` where a translation exists,
    /// French otherwise. Ids, values and structure are unchanged, so the
    /// same answers walk the same way.
    pub fn localized(&self, lang: &str) -> Guide {
        let mut g = self.clone();
        let Some(t) = self.translations.get(lang) else {
            return g;
        };
        if let Some(title) = &t.title {
            g.title.clone_from(title);
        }
        if let Some(d) = &t.description {
            g.description.clone_from(d);
        }
        for step in &mut g.steps {
            let Some(st) = t.steps.get(&step.id) else {
                continue;
            };
            replace(&mut step.question, &st.question);
            replace(&mut step.help, &st.help);
            replace(&mut step.content, &st.content);
            if let Some(label) = &st.unknown {
                match &mut step.unknown {
                    Some(Unknown::Enabled(true)) => {
                        step.unknown = Some(Unknown::With(UnknownChoice {
                            label: Some(label.clone()),
                            ..UnknownChoice::default()
                        }))
                    }
                    Some(Unknown::With(u)) => u.label = Some(label.clone()),
                    _ => {}
                }
            }
            for c in &mut step.choices {
                if let Some(label) = st.choices.get(&c.value) {
                    c.label.clone_from(label);
                }
                if let Some(help) = st.choice_help.get(&c.value) {
                    c.help = Some(help.clone());
                }
            }
        }
        g
    }

    /// The texts of this guide that have no translation in `lang`, in
    /// the guide's order, each as « étape « id » : what » (`titre` for the
    /// guide's title). Empty when every text is translated.
    pub fn untranslated(&self, lang: &str) -> Vec<String> {
        let none = Translation::default();
        let t = self.translations.get(lang).unwrap_or(&none);
        let mut out = Vec::new();
        if t.title.is_none() {
            out.push("titre".to_owned());
        }
        if !self.description.is_empty() && t.description.is_none() {
            out.push("description".to_owned());
        }
        let empty = StepTranslation::default();
        for step in &self.steps {
            let st = t.steps.get(&step.id).unwrap_or(&empty);
            let mut missing = |what: String| out.push(format!("étape « {} » : {what}", step.id));
            for (has, translated, what) in [
                (step.question.is_some(), st.question.is_some(), "question"),
                (step.help.is_some(), st.help.is_some(), "aide"),
                (step.content.is_some(), st.content.is_some(), "texte"),
            ] {
                if has && !translated {
                    missing(what.to_owned());
                }
            }
            // A label of its own for « Je ne sais pas » (the default one is
            // the interface's, translated with it).
            if matches!(&step.unknown, Some(Unknown::With(u))
                if u.label.as_deref().is_some_and(|l| l != UNKNOWN_LABEL))
                && st.unknown.is_none()
            {
                missing("« Je ne sais pas »".to_owned());
            }
            for c in &step.choices {
                if !st.choices.contains_key(&c.value) {
                    missing(format!("choix « {} »", c.value));
                }
                if c.help.is_some() && !st.choice_help.contains_key(&c.value) {
                    missing(format!("aide du choix « {} »", c.value));
                }
            }
        }
        out
    }

    /// Every document type a choice or step of this guide may set.
    pub fn document_types(&self) -> Vec<&str> {
        fn add<'a>(out: &mut Vec<&'a str>, set: &'a BTreeMap<String, Values>) {
            if let Some(v) = set.get(DOCUMENT_TYPE) {
                for s in v.as_slice() {
                    if !out.contains(&s.as_str()) {
                        out.push(s);
                    }
                }
            }
        }
        let mut out: Vec<&str> = Vec::new();
        for step in &self.steps {
            add(&mut out, &step.set);
            for c in &step.choices {
                add(&mut out, &c.set);
            }
            if let Some(Unknown::With(u)) = &step.unknown {
                add(&mut out, &u.set);
            }
        }
        out
    }
}

fn replace(target: &mut Option<String>, with: &Option<String>) {
    if let Some(w) = with {
        *target = Some(w.clone());
    }
}

#[cfg(test)]
mod tests;
