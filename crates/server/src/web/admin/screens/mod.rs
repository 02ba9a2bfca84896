//! The back-office screens, one file per resource: my data (`home`),
//! services, holding rules (timeline and preview), document types, users,
//! history. What they share — form text helpers and the tables of services
//! and rules — is here.

mod history;
mod home;
mod impact;
mod inbox;
mod rules;
mod services;
mod sites;
mod statistics;
mod suggest;
mod types;
mod users;

pub use history::{history, revert};
pub use home::home;
pub use impact::{impact, impact_save};
pub use inbox::{
    inbox, inbox_notify, labels_page, labels_save, request_attachment, request_claim,
    request_contact, request_labels, request_message, request_note, request_page, request_reroute,
    request_status,
};
pub use rules::{
    rule_create, rule_delete, rule_edit, rule_new, rule_page, rule_save, rule_verified, rules,
};
pub use services::{
    service_create, service_edit, service_new, service_page, service_save, service_verified,
    services,
};
pub use sites::{
    site_create, site_delete, site_delete_page, site_new, site_page, site_save, sites,
};
pub use statistics::{
    guide_statistics, spawn_warmer as spawn_dashboard_warmer, statistics, statistics_csv,
    suggestion_triage, warm as warm_dashboards,
};
pub use suggest::territory_suggestions;
pub use types::{request_form_save, type_edit, type_save, types};
pub use users::{user_edit, user_invite, user_save, users};

use chrono::NaiveDate;
use locadocs_core::timeline::Gap;
use locadocs_core::{InseeCode, Service, ServiceRef, Snapshot, Territory};
use serde::Deserialize;

use super::view::{Cell, Table};
use crate::store::StoredHolding;

/// An optional text, or nothing.
fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn day_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "jamais".into())
}

fn period_text(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (None, None) => "toutes dates".into(),
        (Some(f), None) => format!("depuis le {}", f.format("%d/%m/%Y")),
        (None, Some(t)) => format!("jusqu'au {}", t.format("%d/%m/%Y")),
        (Some(f), Some(t)) => format!("du {} au {}", f.format("%d/%m/%Y"), t.format("%d/%m/%Y")),
    }
}

/// Whether a verification date is older than 12 months (or missing).
fn stale(d: Option<NaiveDate>, today: NaiveDate) -> bool {
    match d {
        None => true,
        Some(d) => d < locadocs_core::reference::years_before(today, 1),
    }
}

/// Trims a posted text; empty means absent.
fn clean(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

const MAX_TEXT: usize = 500;

/// Field errors of a form: (field name, message).
type Errors = Vec<(String, String)>;

fn check_len(errors: &mut Errors, field: &str, v: &str, max: usize) {
    if v.chars().count() > max {
        errors.push((field.into(), format!("Au plus {max} caractères.")));
    }
}

fn err_of(errors: &[(String, String)], name: &str) -> Option<String> {
    errors
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, m)| m.clone())
}

/// The address a saved change goes back to, marked so that the page says
/// it was saved.
fn saved(to: &str) -> axum::response::Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    super::see_other(&format!("{to}{sep}enregistre=1"))
}

/// The `?enregistre=1` a page is reached with after a save.
#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    enregistre: Option<String>,
}

impl SavedQuery {
    /// « Modifications enregistrées », when the page follows a save.
    fn notice(&self) -> Option<super::view::Notice> {
        self.enregistre.as_deref().map(|_| {
            super::view::Notice::success(
                "Modifications enregistrées",
                "Elles sont visibles dès maintenant dans les réponses publiques, et figurent dans l'historique.",
            )
        })
    }
}

/// Who made a change, as `viewer` may see it: editors and administrators
/// see addresses; a contributor sees their own changes as « vous », the
/// command line as such, and others by their role only (an address is
/// personal data they do not need).
fn author_shown(viewer: &crate::store::User, email: &str, users: &[crate::store::User]) -> String {
    if super::policy::edits_everything(viewer) || email.starts_with("ligne de commande") {
        return email.to_owned();
    }
    if email == viewer.email {
        return "vous".to_owned();
    }
    match users.iter().find(|u| u.email == email).map(|u| u.role) {
        Some(crate::store::Role::Admin) => "un administrateur".into(),
        Some(crate::store::Role::Editor) => "un éditeur".into(),
        Some(crate::store::Role::Contributor) => "un contributeur".into(),
        None => "une autre personne".into(),
    }
}

/// A form that only carries the revision it was read at.
#[derive(Deserialize)]
pub struct RevisionForm {
    #[serde(default)]
    revision: Option<i64>,
}

fn services_table(caption: &str, services: &[&Service], today: NaiveDate) -> Table {
    Table {
        caption: caption.into(),
        head: vec![
            "Service".into(),
            "Type".into(),
            "Vérifié le".into(),
            "État".into(),
        ],
        rows: services
            .iter()
            .map(|s| {
                vec![
                    Cell::link(&s.name, format!("/admin/services/{}", s.id)),
                    Cell::text(s.kind.label()),
                    Cell::text(day_text(s.verified_at)),
                    if stale(s.verified_at, today) {
                        Cell::warning("à vérifier")
                    } else {
                        Cell::text("à jour")
                    },
                ]
            })
            .collect(),
    }
}

fn holder_name(snap: &Snapshot, r: &ServiceRef) -> String {
    match r {
        ServiceRef::Competent(locadocs_core::ServiceKind::Mairie) => {
            "la mairie de la commune".into()
        }
        ServiceRef::Competent(kind) => format!(
            "le service « {} » compétent pour la commune",
            kind.label().to_lowercase()
        ),
        ServiceRef::Unstated => {
            "aucun détenteur nommé (période non renseignée, avec sa raison)".into()
        }
        ServiceRef::Id(s) => snap
            .service(s.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_else(|| s.to_string()),
    }
}

/// A document type as people name it (its slug when unknown).
fn document_label(snap: &Snapshot, slug: &str) -> String {
    snap.document_type(slug)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| slug.to_owned())
}

/// A bound of a rule's period in words: a rolling bound moves with time.
fn bound_text(b: locadocs_core::Bound) -> String {
    match b {
        locadocs_core::Bound::Date(d) => d.format("%d/%m/%Y").to_string(),
        locadocs_core::Bound::Year(y) => y.to_string(),
        locadocs_core::Bound::YearsAgo(n) => format!("il y a {n} ans (glissant)"),
    }
}

/// Rules of one timeline that hold the same days: `(rule, earlier rule)`.
fn overlaps_of<'a>(
    rules: &[&'a StoredHolding],
    today: NaiveDate,
) -> Vec<(&'a StoredHolding, &'a StoredHolding)> {
    let plain: Vec<_> = rules.iter().map(|h| &h.rule).collect();
    locadocs_core::timeline::overlaps(&plain, today)
        .into_iter()
        .map(|(i, j)| (rules[i], rules[j]))
        .collect()
}

/// « Règle n° 3 — Permis de construire, Rennes (35238) ».
fn rule_title(snap: &Snapshot, h: &StoredHolding) -> String {
    format!(
        "Règle n° {} — {}, {}",
        h.id,
        document_label(snap, h.rule.document_type.as_str()),
        snap.territories().display_name(&h.rule.territory)
    )
}

/// The gaps of the timelines these rules belong to (from the core).
fn gaps_of(rules: &[&StoredHolding], today: NaiveDate) -> Vec<Gap> {
    let plain: Vec<_> = rules.iter().map(|h| &h.rule).collect();
    locadocs_core::timeline::gaps(&plain, today)
}

fn gap_text(g: &Gap) -> String {
    format!(
        "Lacune : aucune règle {} pour {} {}.",
        g.territory,
        g.document_type,
        period_text(Some(g.first), Some(g.last))
    )
}

/// The timeline that shows a gap.
fn gap_href(g: &Gap) -> String {
    let commune = g
        .territory
        .to_string()
        .strip_prefix("commune:")
        .unwrap_or("")
        .to_owned();
    format!("/admin/regles?type={}&commune={commune}", g.document_type)
}

fn rules_table(caption: &str, rules: &[&StoredHolding], snap: &Snapshot) -> Table {
    timeline_table(caption, rules, &[], snap)
}

/// The rules as a table, each gap in a row of its own after the rule it follows.
fn timeline_table(caption: &str, rules: &[&StoredHolding], gaps: &[Gap], snap: &Snapshot) -> Table {
    let mut t = rules_rows(caption, rules, snap);
    // From the last row up, so that inserting a row moves none still to come.
    let mut order: Vec<&Gap> = gaps.iter().filter(|g| g.after < rules.len()).collect();
    order.sort_by_key(|g| std::cmp::Reverse(g.after));
    for g in order {
        t.rows.insert(
            g.after + 1,
            vec![
                Cell::warning("lacune"),
                Cell::text(document_label(snap, g.document_type.as_str())),
                Cell::text(snap.territories().display_name(&g.territory)),
                Cell::text(g.first.format("%d/%m/%Y").to_string()),
                Cell::text(g.last.format("%d/%m/%Y").to_string()),
                Cell::text("aucune règle à ce niveau"),
                Cell::text("—"),
            ],
        );
    }
    t
}

fn rules_rows(caption: &str, rules: &[&StoredHolding], snap: &Snapshot) -> Table {
    Table {
        caption: caption.into(),
        head: vec![
            "Règle".into(),
            "Type de document".into(),
            "Territoire".into(),
            "Du".into(),
            "Au".into(),
            "Détenteur".into(),
            "Vérifiée le".into(),
        ],
        rows: rules
            .iter()
            .map(|h| {
                vec![
                    Cell::link(format!("n° {}", h.id), format!("/admin/regles/{}", h.id)),
                    Cell::text(document_label(snap, h.rule.document_type.as_str())),
                    Cell::text(snap.territories().display_name(&h.rule.territory)),
                    Cell::text(h.rule.from.map(bound_text).unwrap_or("début".into())),
                    Cell::text(h.rule.to.map(bound_text).unwrap_or("aujourd'hui".into())),
                    Cell::text(holder_name(snap, &h.rule.service)),
                    Cell::text(day_text(h.rule.verified_at)),
                ]
            })
            .collect(),
    }
}

/// A territory as people write it: « Rennes », « Rennes (35238) », « 35238 »,
/// « Rennes Métropole », « Ille-et-Vilaine », « Ille-et-Vilaine (35) », « 35 »,
/// « France » — or the file syntax (`commune:35238`). An ambiguous or
/// unknown name gets a message that says what to type instead.
fn territory_from_words(snap: &Snapshot, text: &str) -> std::result::Result<Territory, String> {
    use locadocs_core::territory::CommuneKind;
    use locadocs_core::text::fold;
    let text = text.trim();
    if text.is_empty() {
        return Err(
            "Indiquez une commune, une intercommunalité, un département ou « France ».".into(),
        );
    }
    let t = snap.territories();
    let known = |x: Territory| -> std::result::Result<Territory, String> {
        if t.has(&x) || t.commune_count() == 0 {
            Ok(x)
        } else {
            Err(format!("Aucun territoire ne correspond à « {text} »."))
        }
    };
    if let Ok(x) = Territory::parse(text) {
        return known(x);
    }
    // « Nom (code) », or a bare code.
    let code = match text.rsplit_once('(') {
        Some((_, rest)) if rest.ends_with(')') => rest.trim_end_matches(')').trim(),
        _ => text,
    };
    let is_code = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'A' || c == 'B' || c == 'a' || c == 'b');
    if is_code {
        let code = code.to_ascii_uppercase();
        let syntax = match code.len() {
            5 => format!("commune:{code}"),
            9 => format!("epci:{code}"),
            2 | 3 => format!("departement:{code}"),
            _ => String::new(),
        };
        if let Ok(x) = Territory::parse(&syntax) {
            return known(x);
        }
    }
    let key = fold(text);
    if key == "france" {
        return Ok(Territory::France);
    }
    let mut found: Vec<Territory> = vec![];
    for d in t.departements().filter(|d| fold(&d.name) == key) {
        if let Ok(x) = Territory::parse(&format!("departement:{}", d.code)) {
            found.push(x);
        }
    }
    found.extend(
        t.epcis()
            .filter(|e| fold(&e.name) == key)
            .map(|e| Territory::Epci(e.siren.clone())),
    );
    let communes: Vec<&locadocs_core::territory::Commune> = t
        .communes()
        .iter()
        .filter(|c| fold(&c.name) == key)
        .collect();
    let current: Vec<_> = communes
        .iter()
        .filter(|c| c.kind == CommuneKind::Current)
        .collect();
    let chosen = if current.is_empty() {
        communes.iter().collect()
    } else {
        current
    };
    found.extend(chosen.iter().map(|c| Territory::Commune(c.code)));
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!(
            "Aucune commune, intercommunalité ou département ne s'appelle « {text} ». Vérifiez l'orthographe, ou donnez le code INSEE (35238) ou du département (35)."
        )),
        n => {
            let names: Vec<String> = found
                .iter()
                .take(6)
                .map(|x| match x {
                    Territory::Commune(c) => t
                        .resolve(*c)
                        .and_then(|r| r.entry)
                        .map(|e| {
                            let dep = t
                                .departement(&e.departement)
                                .map(|d| d.name.clone())
                                .unwrap_or_else(|| e.departement.clone());
                            format!("« {} ({}) » — {dep}", e.name, e.code)
                        })
                        .unwrap_or_else(|| format!("« {c} »")),
                    Territory::Epci(_) => format!("« {} » (intercommunalité)", t.display_name(x)),
                    other => format!("« {} »", t.display_name(other)),
                })
                .collect();
            Err(format!(
                "{n} territoires s'appellent « {text} » : écrivez l'un de {}{}.",
                names.join(", "),
                if n > 6 { "…" } else { "" }
            ))
        }
    }
}

/// A commune typed by its name (« Rennes »), as shown (« Rennes (35238) »)
/// or by its INSEE code; a message saying what is wrong otherwise.
fn commune_from_words(snap: &Snapshot, text: &str) -> std::result::Result<InseeCode, String> {
    let t = snap.territories();
    if let Ok(code) = InseeCode::parse(text.trim())
        && !t.knows(code)
        && t.commune_count() > 0
    {
        return Err(format!("Aucune commune n'a le code « {code} »."));
    }
    match territory_from_words(snap, text)? {
        Territory::Commune(c) => Ok(c),
        other => Err(format!(
            "« {} » n'est pas une commune : indiquez le nom d'une commune (Rennes) ou son code INSEE (35238).",
            snap.territories().display_name(&other)
        )),
    }
}

/// An identifier made from a name that `taken` does not hold yet:
/// `archives-de-rennes`, then `archives-de-rennes-2`…; `fallback` when the
/// name has no letter or digit.
fn free_slug(
    name: &str,
    fallback: &str,
    taken: impl Fn(&locadocs_core::Slug) -> bool,
) -> Option<locadocs_core::Slug> {
    let base = crate::annuaire::slugify(name);
    let base = if base.is_empty() {
        fallback.to_owned()
    } else {
        base
    };
    (1..1000).find_map(|n| {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        locadocs_core::Slug::parse(&candidate)
            .ok()
            .filter(|s| !taken(s))
    })
}
