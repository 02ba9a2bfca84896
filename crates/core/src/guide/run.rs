//! Walking a guide with the answers found in the URL.

use std::collections::BTreeMap;
use std::fmt;

use crate::codes::InseeCode;

use super::{
    Answers, COMMUNE, DISPLAY_PARAMS, DOCUMENT_TYPE, Guide, HOST_COMMUNE, Step, StepKind, UNKNOWN,
    Values, YEAR,
};

/// Longest answer accepted, in characters.
pub const MAX_VALUE_CHARS: usize = 200;
/// Most steps visited in one walk: a guard against loops in unvalidated
/// guides.
pub const MAX_WALK: usize = 500;

/// What the runner needs to know about the reference data.
pub trait GuideEnv {
    fn document_type_known(&self, slug: &str) -> bool;
    fn commune_known(&self, code: &str) -> bool;
    /// The label shown for a document type in the path; the slug by default.
    fn document_type_label(&self, _slug: &str) -> Option<String> {
        None
    }
    /// The name shown for a commune in the path; the code by default.
    fn commune_label(&self, _code: &str) -> Option<String> {
        None
    }
    /// This year, to refuse years to come; no upper bound when `None`.
    fn current_year(&self) -> Option<i32> {
        None
    }
}

/// A step on the path: answered, or passed because of a preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered<'g> {
    pub step: &'g Step,
    /// The values consumed, as carried in the URL.
    pub values: Vec<String>,
    /// What to show for them (choice labels, commune names, « Je ne sais pas »).
    pub labels: Vec<String>,
    /// Passed because `document_type` was preset, not answered.
    pub preset: bool,
    /// The query string that leads back to this step, to change the answer.
    pub query: String,
}

/// Where the walk stops.
#[derive(Debug, Clone, PartialEq)]
pub enum Current<'g> {
    /// The step to ask now.
    Step(&'g Step),
    /// A result step was reached: what to locate.
    Result {
        step: &'g Step,
        document_types: Vec<String>,
        commune: Option<String>,
        /// `None` when the year is unknown or was not asked; for a period
        /// (« 1985-1990 »), its first year.
        year: Option<i32>,
        /// The last year of a period; `None` for a single year.
        year_to: Option<i32>,
    },
    /// A dead end was reached (or the guide itself is broken, see
    /// [`Walk::error`]).
    DeadEnd(&'g Step),
}

impl<'g> Current<'g> {
    pub fn step(&self) -> &'g Step {
        match self {
            Current::Step(s) | Current::DeadEnd(s) => s,
            Current::Result { step, .. } => step,
        }
    }
}

/// An answer the walk could not accept, or a fault in the guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The id of the step concerned.
    pub step: String,
    /// What is wrong, in French, for the person answering.
    pub message: String,
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome of [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct Walk<'g> {
    pub path: Vec<Answered<'g>>,
    pub current: Current<'g>,
    pub error: Option<StepError>,
    /// Exactly the answers consumed along the path, display parameters
    /// first: what the current step's form carries as hidden fields.
    pub kept: Answers,
    /// The display parameters alone (`lang`, `theme`, `color`, `font`, `site`).
    pub display: Answers,
    /// Every variable set along the path.
    pub vars: BTreeMap<String, Vec<String>>,
}

impl Walk<'_> {
    /// The query that asks `path[upto]` again with the answers before it;
    /// for `upto >= path.len()`, the query of the current step's form.
    pub fn query_for(&self, upto: usize) -> String {
        match self.path.get(upto) {
            Some(a) => a.query.clone(),
            None => self.kept.to_query(),
        }
    }

    /// The query that moves on from the current step with this answer
    /// (several values for a multiple-choice step).
    pub fn query_with(&self, values: &[&str]) -> String {
        let var = self.current.step().var_name();
        let mut a = self.kept.clone();
        for v in values {
            a.push(var, *v);
        }
        a.to_query()
    }

    /// The query that starts the guide again, keeping only the display
    /// parameters (and so the host's commune).
    pub fn restart_query(&self) -> String {
        self.display.to_query()
    }

    /// With a host's commune: the query that asks for another commune, the
    /// other answers kept.
    pub fn change_commune_query(&self) -> Option<String> {
        self.display.get(HOST_COMMUNE)?;
        Some(self.kept.without(&[COMMUNE, HOST_COMMUNE]).to_query())
    }
}

/// Shown when the guide itself is broken (validation was skipped).
static BROKEN: Step = Step {
    id: String::new(),
    kind: StepKind::DeadEnd,
    question: None,
    help: None,
    content: None,
    var: None,
    next: None,
    finds_document: false,
    when: None,
    set: BTreeMap::new(),
    unknown: None,
    choices: Vec::new(),
};

/// Walks `guide` from its first step with `answers`. Never panics.
///
/// A step whose `when` fails is skipped (to its `next`); a step that finds
/// the document type is passed when `document_type` is preset; a step whose
/// variable is answered is passed; the first unanswered step is current.
/// Answers not consumed along the way are dropped.
pub fn run<'g>(guide: &'g Guide, answers: &Answers, env: &dyn GuideEnv) -> Walk<'g> {
    // The host's commune stands for the commune when none is given.
    let with_host;
    let answers = match answers.get(HOST_COMMUNE) {
        Some(host) if answers.get(COMMUNE).is_none_or(str::is_empty) && env.commune_known(host) => {
            with_host = answers.without(&[COMMUNE]).with(COMMUNE, host);
            &with_host
        }
        _ => answers,
    };
    let mut w = Walker {
        answers,
        env,
        path: Vec::new(),
        kept: Answers::new(),
        vars: BTreeMap::new(),
        preset: None,
    };
    for name in DISPLAY_PARAMS {
        if let Some(v) = answers.get(name)
            && v.chars().count() <= MAX_VALUE_CHARS
        {
            w.kept.push(name, v);
        }
    }
    let display = w.kept.clone();

    // A preset document type: kept only if every value is known.
    let mut preset_error = None;
    let presets: Vec<&str> = answers.get_all(DOCUMENT_TYPE).collect();
    if !presets.is_empty() {
        match check_document_types(&presets, env) {
            Ok(list) => {
                let start = w.kept.len();
                for d in &list {
                    w.kept.push(DOCUMENT_TYPE, d.as_str());
                }
                w.preset = Some((start, w.kept.len(), false));
                w.vars.insert(DOCUMENT_TYPE.to_owned(), list);
            }
            Err(message) => preset_error = Some(message),
        }
    }

    let (current, error) = w.walk(guide, &mut preset_error);
    // A commune given before its step is reached (a town hall's widget, a
    // link): carried along until that step uses it.
    if matches!(current, Current::Step(_))
        && !w.kept.contains(COMMUNE)
        && let Some(code) = answers.get(COMMUNE)
        && env.commune_known(code)
    {
        w.kept.push(COMMUNE, code);
    }
    Walk {
        path: w.path,
        current,
        error,
        kept: w.kept,
        display,
        vars: w.vars,
    }
}

struct Walker<'g, 'a> {
    answers: &'a Answers,
    env: &'a dyn GuideEnv,
    path: Vec<Answered<'g>>,
    kept: Answers,
    vars: BTreeMap<String, Vec<String>>,
    /// Where the preset document types sit in `kept`, and whether a step
    /// has already been shown as passed because of them.
    preset: Option<(usize, usize, bool)>,
}

/// What a step's answer turned out to be.
enum Outcome<'g> {
    Unanswered,
    Invalid(String),
    Answered {
        values: Vec<String>,
        labels: Vec<String>,
        goto: Option<&'g str>,
        sets: Vec<&'g BTreeMap<String, Values>>,
    },
}

impl<'g> Walker<'g, '_> {
    fn walk(
        &mut self,
        guide: &'g Guide,
        preset_error: &mut Option<String>,
    ) -> (Current<'g>, Option<StepError>) {
        let Some(mut step) = guide.steps.first() else {
            return broken("", "Ce guide n'a aucune étape.");
        };
        for _ in 0..MAX_WALK {
            let skip = step.when.as_ref().is_some_and(|c| !c.holds(&self.vars));
            let by_preset = !skip && step.finds_document_type() && self.preset.is_some();
            if skip || by_preset {
                if by_preset {
                    self.record_preset(step);
                }
                match follow(guide, step, step.next.as_deref()) {
                    Ok(s) => step = s,
                    Err(e) => return e,
                }
                continue;
            }
            if step.finds_document_type()
                && let Some(message) = preset_error.take()
            {
                return (Current::Step(step), Some(error(step, message)));
            }
            match step.kind {
                StepKind::Result => {
                    apply(&mut self.vars, &step.set);
                    return (self.result(step), None);
                }
                StepKind::DeadEnd => return (Current::DeadEnd(step), None),
                _ => {}
            }
            match self.answer(step) {
                Outcome::Unanswered => return (Current::Step(step), None),
                Outcome::Invalid(message) => {
                    return (Current::Step(step), Some(error(step, message)));
                }
                Outcome::Answered {
                    values,
                    labels,
                    goto,
                    sets,
                } => {
                    let query = self.kept.to_query();
                    let var = step.var_name();
                    for v in &values {
                        self.kept.push(var, v.as_str());
                    }
                    self.vars.insert(var.to_owned(), values.clone());
                    for set in sets {
                        apply(&mut self.vars, set);
                    }
                    apply(&mut self.vars, &step.set);
                    self.path.push(Answered {
                        step,
                        values,
                        labels,
                        preset: false,
                        query,
                    });
                    match follow(guide, step, goto.or(step.next.as_deref())) {
                        Ok(s) => step = s,
                        Err(e) => return e,
                    }
                }
            }
        }
        broken(
            &step.id,
            "Ce guide tourne en rond : il doit être corrigé par son auteur.",
        )
    }

    /// Shows the first step passed because of the preset document type.
    fn record_preset(&mut self, step: &'g Step) {
        let Some((start, end, shown)) = self.preset else {
            return;
        };
        if shown {
            return;
        }
        self.preset = Some((start, end, true));
        let values: Vec<String> = self.kept.pairs()[start..end]
            .iter()
            .map(|(_, v)| v.clone())
            .collect();
        let labels = values
            .iter()
            .map(|v| self.env.document_type_label(v).unwrap_or_else(|| v.clone()))
            .collect();
        // Going back to this step means choosing the document again.
        let without = Answers::from_pairs(
            self.kept
                .pairs()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= end)
                .map(|(_, p)| p.clone()),
        );
        self.path.push(Answered {
            step,
            values,
            labels,
            preset: true,
            query: without.to_query(),
        });
    }

    fn answer(&self, step: &'g Step) -> Outcome<'g> {
        let var = step.var_name();
        let given: Vec<&str> = self.answers.get_all(var).collect();
        if given.is_empty() {
            // An explanation does not stop a link that presets the answers
            // asked after it (`?document_type=…&commune=…&year=…`). A
            // commune alone (a town hall's widget) still shows it.
            if step.kind == StepKind::Info && self.answers.contains(YEAR) {
                return Outcome::Answered {
                    values: vec!["ok".to_owned()],
                    labels: Vec::new(),
                    goto: None,
                    sets: Vec::new(),
                };
            }
            return Outcome::Unanswered;
        }
        if given.iter().any(|v| v.chars().count() > MAX_VALUE_CHARS) {
            return Outcome::Invalid(
                "Cette réponse est trop longue. Choisissez ou saisissez à nouveau votre réponse."
                    .to_owned(),
            );
        }
        // A single answer is the last non-empty value sent: a form sends the
        // empty field, then the button pressed (`year=&year=inconnu`).
        let one = self.answers.get(var).unwrap_or("");
        match step.kind {
            StepKind::Choice => self.choice(step, one),
            StepKind::Multiple => self.multiple(step, &given),
            StepKind::Commune => self.commune(one),
            StepKind::Date => self.year(one),
            StepKind::Info => {
                if one.trim().is_empty() {
                    Outcome::Unanswered
                } else {
                    Outcome::Answered {
                        values: vec!["ok".to_owned()],
                        labels: Vec::new(),
                        goto: None,
                        sets: Vec::new(),
                    }
                }
            }
            StepKind::Result | StepKind::DeadEnd => Outcome::Unanswered,
        }
    }

    fn choice(&self, step: &'g Step, value: &str) -> Outcome<'g> {
        if value.is_empty() {
            return Outcome::Invalid("Choisissez une réponse.".to_owned());
        }
        if value == UNKNOWN
            && let Some(outcome) = unknown_outcome(step)
        {
            return outcome;
        }
        match step.choice(value) {
            Some(c) => Outcome::Answered {
                values: vec![c.value.clone()],
                labels: vec![c.label.clone()],
                goto: c.goto.as_deref(),
                sets: vec![&c.set],
            },
            None => Outcome::Invalid(not_a_choice(value)),
        }
    }

    fn multiple(&self, step: &'g Step, given: &[&str]) -> Outcome<'g> {
        let chosen: Vec<&str> = given
            .iter()
            .copied()
            .filter(|v| !v.is_empty() && *v != UNKNOWN)
            .collect();
        if chosen.is_empty() {
            if given.contains(&UNKNOWN)
                && let Some(outcome) = unknown_outcome(step)
            {
                return outcome;
            }
            return Outcome::Invalid(if given.contains(&UNKNOWN) {
                not_a_choice(UNKNOWN)
            } else {
                "Cochez au moins une réponse.".to_owned()
            });
        }
        if let Some(bad) = chosen.iter().find(|v| step.choice(v).is_none()) {
            return Outcome::Invalid(not_a_choice(bad));
        }
        // In the order of the step's choices, each once.
        let picked: Vec<_> = step
            .choices
            .iter()
            .filter(|c| chosen.contains(&c.value.as_str()))
            .collect();
        // A goto applies only when every picked choice has one (the first
        // wins); otherwise the step's `next`.
        let goto = if picked.iter().all(|c| c.goto.is_some()) {
            picked.first().and_then(|c| c.goto.as_deref())
        } else {
            None
        };
        Outcome::Answered {
            values: picked.iter().map(|c| c.value.clone()).collect(),
            labels: picked.iter().map(|c| c.label.clone()).collect(),
            goto,
            sets: picked.iter().map(|c| &c.set).collect(),
        }
    }

    fn commune(&self, value: &str) -> Outcome<'g> {
        let t = value.trim();
        if t.is_empty() {
            return Outcome::Invalid("Indiquez une commune.".to_owned());
        }
        let Ok(code) = InseeCode::parse(t) else {
            return Outcome::Invalid(format!(
                "« {} » n'est pas un code de commune. Choisissez votre commune dans la liste.",
                excerpt(t)
            ));
        };
        if !self.env.commune_known(code.as_str()) {
            return Outcome::Invalid(format!(
                "Nous ne connaissons pas de commune avec le code {code}. Choisissez votre commune dans la liste."
            ));
        }
        let label = self
            .env
            .commune_label(code.as_str())
            .unwrap_or_else(|| code.to_string());
        Outcome::Answered {
            values: vec![code.to_string()],
            labels: vec![label],
            goto: None,
            sets: Vec::new(),
        }
    }

    fn year(&self, value: &str) -> Outcome<'g> {
        let t = value.trim();
        if t == UNKNOWN {
            return Outcome::Answered {
                values: vec![UNKNOWN.to_owned()],
                labels: vec![super::UNKNOWN_LABEL.to_owned()],
                goto: None,
                sets: Vec::new(),
            };
        }
        if t.is_empty() {
            return Outcome::Invalid(
                "Indiquez une année, ou choisissez « Je ne sais pas ».".to_owned(),
            );
        }
        if let Some((a, b)) = parse_period(t) {
            return self.period(t, a, b);
        }
        let year = match parse_year(t) {
            Some(y) => y,
            None => {
                return Outcome::Invalid(format!(
                    "« {} » n'est pas une année. Écrivez l'année avec quatre chiffres, par exemple 1985, ou une période, par exemple 1985-1990, ou choisissez « Je ne sais pas ».",
                    excerpt(t)
                ));
            }
        };
        if let Some(now) = self.env.current_year()
            && year > now
        {
            return Outcome::Invalid(format!(
                "L'année {year} n'est pas encore arrivée. Indiquez une année passée, ou choisissez « Je ne sais pas »."
            ));
        }
        Outcome::Answered {
            values: vec![year.to_string()],
            labels: vec![year.to_string()],
            goto: None,
            sets: Vec::new(),
        }
    }

    /// A period of years (« 1985-1990 »): the locate engine answers for
    /// every holder of the period.
    fn period(&self, typed: &str, a: i32, b: i32) -> Outcome<'g> {
        if a > b {
            return Outcome::Invalid(format!(
                "« {} » : écrivez d'abord l'année la plus ancienne, par exemple {b}-{a}.",
                excerpt(typed)
            ));
        }
        if let Some(now) = self.env.current_year()
            && b > now
        {
            return Outcome::Invalid(format!(
                "L'année {b} n'est pas encore arrivée. Indiquez une période passée, ou choisissez « Je ne sais pas »."
            ));
        }
        if a == b {
            return Outcome::Answered {
                values: vec![a.to_string()],
                labels: vec![a.to_string()],
                goto: None,
                sets: Vec::new(),
            };
        }
        Outcome::Answered {
            values: vec![format!("{a}-{b}")],
            labels: vec![format!("de {a} à {b}")],
            goto: None,
            sets: Vec::new(),
        }
    }

    fn result(&self, step: &'g Step) -> Current<'g> {
        let get = |name: &str| self.vars.get(name).and_then(|v| v.first()).cloned();
        let when = get(YEAR);
        let (year, year_to) = match when.as_deref().and_then(parse_period) {
            Some((a, b)) if a < b => (Some(a), Some(b)),
            _ => (when.as_deref().and_then(parse_year), None),
        };
        Current::Result {
            step,
            document_types: self.vars.get(DOCUMENT_TYPE).cloned().unwrap_or_default(),
            commune: get(COMMUNE),
            year,
            year_to,
        }
    }
}

/// The outcome of « Je ne sais pas », when the step offers it.
fn unknown_outcome(step: &Step) -> Option<Outcome<'_>> {
    let label = step.unknown_label()?.to_owned();
    let (goto, sets) = match &step.unknown {
        Some(super::Unknown::With(u)) => (u.goto.as_deref(), vec![&u.set]),
        _ => (None, Vec::new()),
    };
    Some(Outcome::Answered {
        values: vec![UNKNOWN.to_owned()],
        labels: vec![label],
        goto,
        sets,
    })
}

/// A year written with four digits, from 1000.
fn parse_year(t: &str) -> Option<i32> {
    if t.len() != 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok().filter(|y| *y >= 1000)
}

/// Two years written with four digits and a dash, a slash or « à »
/// between them: « 1985-1990 », « 1985 – 1990 », « 1985 à 1990 ».
pub fn parse_period(t: &str) -> Option<(i32, i32)> {
    let t = t.trim();
    let (a, b) = t
        .split_once(['-', '–', '—', '/'])
        .or_else(|| t.split_once(" à "))?;
    Some((parse_year(a.trim())?, parse_year(b.trim())?))
}

/// Checks preset document types; the list without duplicates.
fn check_document_types(given: &[&str], env: &dyn GuideEnv) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for d in given {
        if d.chars().count() > MAX_VALUE_CHARS || !env.document_type_known(d) {
            return Err(format!(
                "Nous ne connaissons pas le document « {} ». Choisissez-le dans la liste.",
                excerpt(d)
            ));
        }
        if !out.iter().any(|o| o == d) {
            out.push((*d).to_owned());
        }
    }
    Ok(out)
}

fn not_a_choice(value: &str) -> String {
    format!(
        "« {} » ne fait pas partie des réponses proposées. Choisissez une réponse dans la liste.",
        excerpt(value)
    )
}

/// At most 40 characters of what the person sent, for messages.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// Adds a `set` to the variables, without duplicates.
fn apply(vars: &mut BTreeMap<String, Vec<String>>, set: &BTreeMap<String, Values>) {
    for (name, values) in set {
        let slot = vars.entry(name.clone()).or_default();
        for v in values.as_slice() {
            if !slot.contains(v) {
                slot.push(v.clone());
            }
        }
    }
}

type Stop<'g> = (Current<'g>, Option<StepError>);

/// The step to go to from `step`.
fn follow<'g>(guide: &'g Guide, step: &Step, target: Option<&str>) -> Result<&'g Step, Stop<'g>> {
    let Some(target) = target else {
        return Err(broken(
            &step.id,
            "Ce guide ne dit pas quelle est l'étape suivante : il doit être corrigé par son auteur.",
        ));
    };
    guide.step(target).ok_or_else(|| {
        broken(
            &step.id,
            "Ce guide renvoie vers une étape qui n'existe pas : il doit être corrigé par son auteur.",
        )
    })
}

fn broken<'g>(step: &str, message: &str) -> Stop<'g> {
    (
        Current::DeadEnd(&BROKEN),
        Some(StepError {
            step: step.to_owned(),
            message: message.to_owned(),
        }),
    )
}

fn error(step: &Step, message: String) -> StepError {
    StepError {
        step: step.id.clone(),
        message,
    }
}
