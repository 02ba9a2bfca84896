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
pub use services::{service_edit, service_page, service_save, service_verified, services};
pub use types::{request_form_save, type_edit, type_save, types};
pub use users::{user_edit, user_invite, user_save, users};

use chrono::NaiveDate;
use locadocs_core::timeline::Gap;
use locadocs_core::{Service, ServiceRef, Snapshot};
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
                    Cell::text(s.kind.as_str()),
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
        ServiceRef::TownHall => "la mairie de la commune".into(),
        ServiceRef::Id(s) => snap
            .service(s.as_str())
            .map(|s| s.name.clone())
            .unwrap_or_else(|| s.to_string()),
    }
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
                Cell::text(g.document_type.as_str()),
                Cell::text(g.territory.to_string()),
                Cell::text(g.first.format("%Y-%m-%d").to_string()),
                Cell::text(g.last.format("%Y-%m-%d").to_string()),
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
                    Cell::text(h.rule.document_type.as_str()),
                    Cell::text(h.rule.territory.to_string()),
                    Cell::text(h.rule.from.map(|b| b.to_string()).unwrap_or("début".into())),
                    Cell::text(
                        h.rule
                            .to
                            .map(|b| b.to_string())
                            .unwrap_or("aujourd'hui".into()),
                    ),
                    Cell::text(holder_name(snap, &h.rule.service)),
                    Cell::text(day_text(h.rule.verified_at)),
                ]
            })
            .collect(),
    }
}
