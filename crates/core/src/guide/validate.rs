//! Checking a guide before it is published.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{
    COMMUNE, Condition, DISPLAY_PARAMS, DOCUMENT_TYPE, Guide, OWN_RECORD, OWN_RECORD_YES,
    STATE_VARS, Step, StepKind, UNKNOWN, Unknown, Values, YEAR, is_reserved,
};

/// One problem found in a guide, in French, naming the step concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The id of the step concerned; `None` for the guide as a whole.
    pub step: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(s) => write!(f, "étape « {s} » : {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

struct Problems(Vec<Problem>);

impl Problems {
    fn guide(&mut self, message: impl Into<String>) {
        self.0.push(Problem {
            step: None,
            message: message.into(),
        });
    }
    fn step(&mut self, step: &Step, message: impl Into<String>) {
        self.0.push(Problem {
            step: Some(step.id.clone()),
            message: message.into(),
        });
    }
}

/// Checks a guide's meaning: links, reachability, termination, loops,
/// variables, document types, choices, translations. An empty list means
/// the guide can be published.
pub fn validate(guide: &Guide, document_type_known: &dyn Fn(&str) -> bool) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    if guide.title.trim().is_empty() {
        p.guide("Le guide n'a pas de titre (title).");
    }
    if guide.steps.is_empty() {
        p.guide("Le guide n'a aucune étape : ajoutez au moins une étape [[steps]].");
        return p.0;
    }

    // Ids.
    let mut seen = BTreeSet::new();
    for step in &guide.steps {
        if step.id.is_empty()
            || !step
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            p.step(
                step,
                "l'identifiant (id) ne doit contenir que des lettres sans accent, des chiffres, « - » et « _ ».",
            );
        }
        if !seen.insert(step.id.as_str()) {
            p.step(
                step,
                "cet identifiant est déjà utilisé par une autre étape : chaque étape doit avoir un id différent.",
            );
        }
    }

    // Variables that some step or choice sets.
    let mut set_vars: BTreeSet<&str> = STATE_VARS.into_iter().collect();
    for step in &guide.steps {
        if matches!(
            step.kind,
            StepKind::Choice | StepKind::Multiple | StepKind::Info
        ) {
            set_vars.insert(step.var_name());
        }
        for set in sets(step) {
            set_vars.extend(set.keys().map(String::as_str));
        }
    }

    for step in &guide.steps {
        check_step(guide, step, &set_vars, document_type_known, &mut p);
    }

    check_graph(guide, &mut p);
    check_translations(guide, &mut p);
    p.0
}

/// Every `set` of a step, its choices and its « Je ne sais pas ».
fn sets(step: &Step) -> Vec<&BTreeMap<String, Values>> {
    let mut out = vec![&step.set];
    out.extend(step.choices.iter().map(|c| &c.set));
    if let Some(Unknown::With(u)) = &step.unknown {
        out.push(&u.set);
    }
    out
}

fn check_step(
    guide: &Guide,
    step: &Step,
    set_vars: &BTreeSet<&str>,
    known: &dyn Fn(&str) -> bool,
    p: &mut Problems,
) {
    let kind = step.kind;

    // Texts.
    if kind.has_choices() && step.question.as_deref().is_none_or(|q| q.trim().is_empty()) {
        p.step(step, "la question (question) manque.");
    }
    if matches!(kind, StepKind::Info | StepKind::DeadEnd)
        && step.content.as_deref().is_none_or(|c| c.trim().is_empty())
    {
        p.step(step, "le texte (content) manque.");
    }

    // Variables.
    match kind {
        StepKind::Choice | StepKind::Multiple | StepKind::Info => {
            let var = step.var_name();
            if is_reserved(var) {
                p.step(
                    step,
                    format!(
                        "la variable « {var} » est réservée : choisissez un autre nom (var), ou une étape de type commune ou date."
                    ),
                );
            }
        }
        StepKind::Commune | StepKind::Date => {
            let expected = if kind == StepKind::Commune {
                COMMUNE
            } else {
                YEAR
            };
            if let Some(v) = &step.var
                && v != expected
            {
                p.step(
                    step,
                    format!(
                        "une étape {} enregistre toujours la variable « {expected} » : retirez « var = \"{v}\" ».",
                        kind.as_str()
                    ),
                );
            }
        }
        StepKind::Result | StepKind::DeadEnd => {}
    }
    for set in sets(step) {
        for (name, values) in set {
            if DISPLAY_PARAMS.contains(&name.as_str()) {
                p.step(
                    step,
                    format!(
                        "« {name} » est un paramètre d'affichage : un choix ne peut pas le fixer."
                    ),
                );
            }
            if name == OWN_RECORD && values.as_slice() != [OWN_RECORD_YES] {
                p.step(
                    step,
                    format!("« {OWN_RECORD} » ne prend qu'une valeur : « {OWN_RECORD_YES} »."),
                );
            }
            if name == DOCUMENT_TYPE {
                for d in values.as_slice() {
                    if !known(d) {
                        p.step(step, format!("le type de document « {d} » n'existe pas."));
                    }
                }
            }
        }
    }
    if let Some(c) = &step.when {
        check_condition(step, c, set_vars, known, p);
    }

    // Choices.
    if kind.has_choices() {
        if step.choices.is_empty() {
            p.step(step, "cette étape ne propose aucun choix (choices).");
        }
        let mut values = BTreeSet::new();
        for c in &step.choices {
            if c.value.is_empty() {
                p.step(
                    step,
                    format!("le choix « {} » n'a pas de valeur (value).", c.label),
                );
            } else if c.value == UNKNOWN {
                p.step(
                    step,
                    "la valeur « inconnu » est réservée à « Je ne sais pas » : écrivez plutôt unknown = true.",
                );
            } else if !values.insert(c.value.as_str()) {
                p.step(
                    step,
                    format!("la valeur « {} » est utilisée par deux choix.", c.value),
                );
            }
            if c.label.trim().is_empty() {
                p.step(
                    step,
                    format!("le choix « {} » n'a pas de libellé (label).", c.value),
                );
            }
        }
    } else {
        if !step.choices.is_empty() {
            p.step(
                step,
                format!(
                    "une étape {} ne propose pas de choix : retirez choices, ou utilisez kind = \"choice\".",
                    kind.as_str()
                ),
            );
        }
        if step.unknown.is_some() {
            p.step(
                step,
                "« Je ne sais pas » (unknown) n'est possible que sur une étape choice ou multiple.",
            );
        }
    }

    // Links.
    for (target, field) in step.targets() {
        if guide.step(target).is_none() {
            p.step(
                step,
                format!("le {field} renvoie vers l'étape « {target} », qui n'existe pas."),
            );
        }
    }
    if kind.is_terminal() {
        if step.next.is_some() {
            p.step(
                step,
                "une étape finale (result, dead_end) ne mène nulle part : retirez next.",
            );
        }
        return;
    }
    if step.next.is_none() {
        let skippable = step.when.is_some() || step.finds_document_type();
        let all_choices_go = kind == StepKind::Choice
            && step.choices.iter().all(|c| c.goto.is_some())
            && match &step.unknown {
                None | Some(Unknown::Enabled(false)) => true,
                Some(Unknown::Enabled(true)) => false,
                Some(Unknown::With(u)) => u.goto.is_some(),
            };
        if skippable && all_choices_go {
            p.step(
                step,
                "cette étape peut être sautée (when, ou document déjà connu) : indiquez avec next l'étape qui suit.",
            );
        } else if !all_choices_go {
            p.step(
                step,
                "ce chemin ne mène à aucune fin : indiquez l'étape suivante (next), ou un goto sur chaque choix.",
            );
        }
    }
}

fn check_condition(
    step: &Step,
    c: &Condition,
    set_vars: &BTreeSet<&str>,
    known: &dyn Fn(&str) -> bool,
    p: &mut Problems,
) {
    if !set_vars.contains(c.var.as_str()) {
        p.step(
            step,
            format!(
                "la condition (when) porte sur la variable « {} », qu'aucune étape ne fixe.",
                c.var
            ),
        );
    }
    if c.any_of.is_none() && c.not_in.is_none() && c.is_set.is_none() {
        p.step(
            step,
            "la condition (when) ne dit rien : ajoutez in, not_in ou is_set.",
        );
    }
    if c.var == DOCUMENT_TYPE {
        for d in c.any_of.iter().chain(&c.not_in).flatten() {
            if !known(d) {
                p.step(
                    step,
                    format!(
                        "la condition (when) cite le type de document « {d} », qui n'existe pas."
                    ),
                );
            }
        }
    }
}

/// Reachability from the first step, and loops.
fn check_graph(guide: &Guide, p: &mut Problems) {
    let index: BTreeMap<&str, usize> = guide
        .steps
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = guide
        .steps
        .iter()
        .map(|s| {
            let mut out: Vec<usize> = s
                .targets()
                .iter()
                .filter_map(|(t, _)| index.get(t).copied())
                .collect();
            out.dedup();
            out
        })
        .collect();

    let mut reached = vec![false; guide.steps.len()];
    let mut todo = vec![0];
    reached[0] = true;
    while let Some(i) = todo.pop() {
        for &j in &edges[i] {
            if !reached[j] {
                reached[j] = true;
                todo.push(j);
            }
        }
    }
    for (i, step) in guide.steps.iter().enumerate() {
        if !reached[i] {
            p.step(
                step,
                "aucun chemin ne mène à cette étape depuis la première étape.",
            );
        }
    }

    // Depth-first search; a link back to a step being explored is a loop.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; guide.steps.len()];
    for root in 0..guide.steps.len() {
        if mark[root] != Mark::New {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(&mut (i, ref mut k)) = stack.last_mut() {
            if let Some(&j) = edges[i].get(*k) {
                *k += 1;
                match mark[j] {
                    Mark::New => {
                        mark[j] = Mark::Open;
                        stack.push((j, 0));
                    }
                    Mark::Open => {
                        let start = stack.iter().position(|(s, _)| *s == j).unwrap_or(0);
                        let cycle: Vec<&str> = stack[start..]
                            .iter()
                            .map(|(s, _)| guide.steps[*s].id.as_str())
                            .chain([guide.steps[j].id.as_str()])
                            .collect();
                        p.step(
                            &guide.steps[i],
                            format!("ces étapes forment une boucle : {}.", cycle.join(" → ")),
                        );
                    }
                    Mark::Done => {}
                }
            } else {
                mark[i] = Mark::Done;
                stack.pop();
            }
        }
    }
}

fn check_translations(guide: &Guide, p: &mut Problems) {
    for (lang, t) in &guide.translations {
        if lang.is_empty() || lang.len() > 8 || !lang.bytes().all(|b| b.is_ascii_lowercase()) {
            p.guide(format!(
                "« {lang} » n'est pas un code de langue (par exemple en)."
            ));
        }
        for (id, st) in &t.steps {
            let Some(step) = guide.step(id) else {
                p.guide(format!(
                    "la traduction « {lang} » porte sur l'étape « {id} », qui n'existe pas."
                ));
                continue;
            };
            for value in st.choices.keys().chain(st.choice_help.keys()) {
                if step.choice(value).is_none() {
                    p.step(
                        step,
                        format!(
                            "la traduction « {lang} » porte sur le choix « {value} », qui n'existe pas."
                        ),
                    );
                }
            }
        }
    }
}
