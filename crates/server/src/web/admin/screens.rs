//! The back-office screens: my data, services, holding rules (timeline and
//! preview), document types, users, history.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use locadocs_core::locate::When;
use locadocs_core::reference::parse_day;
use locadocs_core::{
    Bound, DocumentType, HoldingRule, InseeCode, Service, ServiceKind, ServiceRef, Slug, Snapshot,
    Territory,
};
use serde::Deserialize;

use super::view::{self, Block, Button, Cell, Field, FormView, Nav, Notice, Page, Table};
use super::{Access, Posted, auth, not_found, see_other, unexpected};
use crate::store::{Entity, HistoryEntry, Record, Role, StoredHolding, User, WriteError};
use crate::web::AppState;

/// Whether a user may edit a holding rule: editors always; contributors
/// when its holder is one of their services and it is not a national rule.
pub fn can_edit_rule(u: &User, rule: &HoldingRule) -> bool {
    if !u.active {
        return false;
    }
    if u.role >= Role::Editor {
        return true;
    }
    rule.territory != Territory::France
        && matches!(&rule.service, ServiceRef::Id(s) if u.services.iter().any(|x| x == s.as_str()))
}

fn page(access: &Access, title: &str) -> Page {
    let nav = access.user.as_ref().map(|u| Nav::of(u, &access.csrf));
    Page::new(title, nav)
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn day_text(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%d/%m/%Y").to_string())
        .unwrap_or_else(|| "jamais".into())
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

fn check_len(errors: &mut Vec<(String, String)>, field: &str, v: &str, max: usize) {
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

fn write_error_notice(e: &WriteError) -> Notice {
    match e {
        WriteError::Conflict => Notice::error("Modification concurrente", &e.to_string()),
        _ => Notice::error("Enregistrement impossible", &e.to_string()),
    }
}

fn write_error_status(e: &WriteError) -> StatusCode {
    match e {
        WriteError::Conflict => StatusCode::CONFLICT,
        WriteError::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

// ---------------------------------------------------------------- my data

pub async fn home(State(state): State<AppState>, access: Access) -> Response {
    let Ok(user) = access.user() else {
        return not_found();
    };
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let holdings = match state.live.store().stored_holdings().await {
        Ok(h) => h,
        Err(e) => return unexpected(e),
    };
    let mine = |s: &str| user.role >= Role::Editor || user.services.iter().any(|x| x == s);
    let mut p = page(&access, "Mes données");
    let my_services: Vec<&Service> = snap
        .services()
        .iter()
        .filter(|s| user.services.iter().any(|x| x == s.id.as_str()))
        .collect();
    p.blocks.push(Block::H2("Mes services".into()));
    if my_services.is_empty() {
        p.blocks.push(Block::P(if user.role >= Role::Editor {
            "Votre rôle vous permet de modifier tous les services et toutes les règles.".into()
        } else {
            "Aucun service ne vous est confié : demandez à un administrateur.".into()
        }));
    } else {
        p.blocks.push(Block::Table(services_table(
            "Services que je tiens à jour",
            &my_services,
            today,
        )));
    }
    let my_rules: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| matches!(&h.rule.service, ServiceRef::Id(s) if user.services.iter().any(|x| x == s.as_str())))
        .collect();
    if !my_rules.is_empty() {
        p.blocks.push(Block::H2("Mes règles".into()));
        p.blocks.push(Block::Table(rules_table(
            "Règles dont mes services sont détenteurs",
            &my_rules,
            &snap,
        )));
    }
    // What needs attention: data not verified for 12 months.
    let stale_services: Vec<&Service> = snap
        .services()
        .iter()
        .filter(|s| mine(s.id.as_str()) && stale(s.verified_at, today))
        .collect();
    let stale_rules: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| {
            let holder_mine = match &h.rule.service {
                ServiceRef::Id(s) => mine(s.as_str()),
                ServiceRef::TownHall => user.role >= Role::Editor,
            };
            holder_mine && stale(h.rule.verified_at, today)
        })
        .collect();
    // Gaps in the timelines that hold one of my rules (every timeline for editors).
    let in_my_timelines: Vec<&StoredHolding> = holdings
        .iter()
        .filter(|h| {
            user.role >= Role::Editor
                || my_rules.iter().any(|m| {
                    m.rule.document_type == h.rule.document_type
                        && m.rule.territory == h.rule.territory
                })
        })
        .collect();
    let my_gaps = gaps(&in_my_timelines, today);
    p.blocks.push(Block::H2("À vérifier".into()));
    if !my_gaps.is_empty() {
        p.blocks.push(Block::P(
            "Des périodes ne sont couvertes par aucune règle entre deux règles : vérifiez qu'il ne manque pas de détenteur.".into(),
        ));
        p.blocks.push(Block::Links(
            my_gaps.iter().map(|g| (g.text(), g.href())).collect(),
        ));
    }
    if stale_services.is_empty() && stale_rules.is_empty() {
        p.blocks.push(Block::P(
            "Tout a été vérifié depuis moins de 12 mois.".into(),
        ));
    } else {
        p.blocks.push(Block::P(
            "Ces données n'ont pas été vérifiées depuis plus de 12 mois : ouvrez-les, corrigez-les si besoin, puis cliquez sur « Ces informations sont à jour ».".into(),
        ));
        if !stale_services.is_empty() {
            p.blocks.push(Block::Table(services_table(
                "Services à vérifier",
                &stale_services,
                today,
            )));
        }
        if !stale_rules.is_empty() {
            p.blocks.push(Block::Table(rules_table(
                "Règles à vérifier",
                &stale_rules,
                &snap,
            )));
        }
    }
    // Recent changes by others on my data.
    let keys: Vec<String> = my_rules.iter().map(|h| h.id.to_string()).collect();
    let recent = match state.live.store().recent_history(200).await {
        Ok(r) => r,
        Err(e) => return unexpected(e),
    };
    let others: Vec<&HistoryEntry> = recent
        .iter()
        .filter(|e| e.user_email != user.email)
        .filter(|e| match e.entity {
            Entity::Service => user.services.contains(&e.key),
            Entity::Holding => keys.contains(&e.key),
            _ => false,
        })
        .take(20)
        .collect();
    p.blocks
        .push(Block::H2("Changements récents par d'autres".into()));
    if others.is_empty() {
        p.blocks.push(Block::P(
            "Personne d'autre n'a modifié vos données récemment.".into(),
        ));
    } else {
        p.blocks.push(Block::Table(Table {
            caption: "Changements récents sur mes données".into(),
            head: vec!["Date".into(), "Par".into(), "Fiche".into()],
            rows: others
                .iter()
                .map(|e| {
                    vec![
                        Cell::text(&e.at),
                        Cell::text(&e.user_email),
                        Cell::link(
                            format!("{} {}", e.entity.as_str(), e.key),
                            format!("/admin/historique/{}/{}", e.entity.as_str(), e.key),
                        ),
                    ]
                })
                .collect(),
        }));
    }
    view::render(&p)
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

fn rules_table(caption: &str, rules: &[&StoredHolding], snap: &Snapshot) -> Table {
    timeline_table(caption, rules, &[], snap)
}

/// A period between two rules of one document type and territory that no
/// rule of theirs covers: there, the public answer falls back to a more
/// general level (or to the general advice).
#[derive(Debug)]
struct Gap {
    document_type: String,
    territory: String,
    first: NaiveDate,
    last: NaiveDate,
    /// The rule the gap follows.
    after: i64,
}

impl Gap {
    fn text(&self) -> String {
        format!(
            "Lacune : aucune règle {} pour {} {}.",
            self.territory,
            self.document_type,
            period_text(Some(self.first), Some(self.last))
        )
    }

    /// The timeline that shows it.
    fn href(&self) -> String {
        let commune = self.territory.strip_prefix("commune:").unwrap_or("");
        format!(
            "/admin/regles?type={}&commune={commune}",
            self.document_type
        )
    }
}

/// The gaps between consecutive rules of each document type and territory.
/// Days before the first rule or after the last one are not gaps: there a
/// more general level answers by design.
fn gaps(rules: &[&StoredHolding], today: NaiveDate) -> Vec<Gap> {
    let mut groups: std::collections::BTreeMap<(String, String), Vec<&StoredHolding>> =
        Default::default();
    for h in rules {
        if !h.rule.is_empty_period(today) {
            groups
                .entry((
                    h.rule.document_type.to_string(),
                    h.rule.territory.to_string(),
                ))
                .or_default()
                .push(h);
        }
    }
    let mut out = vec![];
    for ((document_type, territory), mut group) in groups {
        group.sort_by_key(|h| h.rule.start(today).unwrap_or(NaiveDate::MIN));
        // The last day covered so far, and the rule that covers it.
        let mut covered: Option<(NaiveDate, i64)> = None;
        for h in group {
            let start = h.rule.start(today).unwrap_or(NaiveDate::MIN);
            let end = h.rule.end(today).unwrap_or(NaiveDate::MAX);
            if let Some((until, after)) = covered
                && let (Some(first), Some(last)) = (until.succ_opt(), start.pred_opt())
                && first <= last
            {
                out.push(Gap {
                    document_type: document_type.clone(),
                    territory: territory.clone(),
                    first,
                    last,
                    after,
                });
            }
            if covered.is_none_or(|(until, _)| until < end) {
                covered = Some((end, h.id));
            }
        }
    }
    out
}

/// The rules as a table, each gap in a row of its own after the rule it follows.
fn timeline_table(caption: &str, rules: &[&StoredHolding], gaps: &[Gap], snap: &Snapshot) -> Table {
    let mut t = rules_rows(caption, rules, snap);
    for g in gaps.iter().rev() {
        let Some(i) = rules.iter().position(|h| h.id == g.after) else {
            continue;
        };
        t.rows.insert(
            i + 1,
            vec![
                Cell::warning("lacune"),
                Cell::text(&g.document_type),
                Cell::text(&g.territory),
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

// ---------------------------------------------------------------- services

pub async fn services(State(state): State<AppState>, access: Access) -> Response {
    let snap = state.live.snapshot();
    let all: Vec<&Service> = snap.services().iter().collect();
    let mut p = page(&access, "Services");
    p.blocks.push(Block::Table(services_table(
        "Tous les services",
        &all,
        state.clock.today(),
    )));
    view::render(&p)
}

pub async fn service_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    access: Access,
) -> Response {
    let snap = state.live.snapshot();
    let Some(s) = snap.service(&id) else {
        return not_found();
    };
    let mut p = page(&access, &s.name);
    p.blocks.push(Block::Dl(vec![
        ("Identifiant".into(), s.id.to_string()),
        ("Type".into(), s.kind.as_str().into()),
        (
            "Commune (code INSEE)".into(),
            s.commune.map(|c| c.to_string()).unwrap_or_default(),
        ),
        ("Adresse".into(), opt(&s.address)),
        ("Code postal".into(), opt(&s.postal_code)),
        ("Ville".into(), opt(&s.city)),
        ("Téléphone".into(), opt(&s.phone)),
        ("Courriel".into(), opt(&s.email)),
        ("Site internet".into(), opt(&s.website)),
        ("Formulaire de demande".into(), opt(&s.request_url)),
        ("Horaires".into(), opt(&s.opening_hours)),
        ("Délai de réponse".into(), opt(&s.response_time)),
        ("Vérifié le".into(), day_text(s.verified_at)),
    ]));
    let mut links = vec![];
    if access.can_edit_service(&id) {
        links.push((
            "Modifier ce service".into(),
            format!("/admin/services/{id}/modifier"),
        ));
    }
    links.push((
        "Historique des modifications".into(),
        format!("/admin/historique/service/{id}"),
    ));
    p.blocks.push(Block::Links(links));
    view::render(&p)
}

/// The service form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ServiceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    request_url: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    response_time: String,
    #[serde(default)]
    revision: Option<i64>,
}

impl ServiceForm {
    fn of(s: &Service) -> ServiceForm {
        ServiceForm {
            name: s.name.clone(),
            kind: s.kind.as_str().into(),
            commune: s.commune.map(|c| c.to_string()).unwrap_or_default(),
            address: opt(&s.address),
            postal_code: opt(&s.postal_code),
            city: opt(&s.city),
            phone: opt(&s.phone),
            email: opt(&s.email),
            website: opt(&s.website),
            request_url: opt(&s.request_url),
            opening_hours: opt(&s.opening_hours),
            response_time: opt(&s.response_time),
            revision: None,
        }
    }

    /// Applies the form to a service, or says what is wrong, field by field.
    fn apply(&self, base: &Service, snap: &Snapshot) -> Result<Service, Vec<(String, String)>> {
        let mut errors = vec![];
        let mut s = base.clone();
        let name = self.name.trim();
        if name.is_empty() {
            errors.push(("name".into(), "Indiquez le nom du service.".into()));
        }
        check_len(&mut errors, "name", name, 200);
        for (field, v) in [
            ("address", &self.address),
            ("postal_code", &self.postal_code),
            ("city", &self.city),
            ("phone", &self.phone),
            ("email", &self.email),
            ("website", &self.website),
            ("request_url", &self.request_url),
            ("opening_hours", &self.opening_hours),
            ("response_time", &self.response_time),
        ] {
            check_len(&mut errors, field, v, MAX_TEXT);
        }
        s.name = name.to_owned();
        match ServiceKind::parse(self.kind.trim()) {
            Some(k) => s.kind = k,
            None => errors.push((
                "kind".into(),
                "Choisissez un type de service dans la liste.".into(),
            )),
        }
        s.commune = match clean(&self.commune) {
            None => None,
            Some(c) => match InseeCode::parse(&c) {
                Ok(code)
                    if snap.territories().knows(code)
                        || snap.territories().commune_count() == 0 =>
                {
                    Some(code)
                }
                Ok(_) => {
                    errors.push((
                        "commune".into(),
                        format!("Aucune commune n'a le code « {c} »."),
                    ));
                    None
                }
                Err(_) => {
                    errors.push((
                        "commune".into(),
                        "Un code INSEE a 5 caractères, par exemple 35238.".into(),
                    ));
                    None
                }
            },
        };
        if let Some(pc) = clean(&self.postal_code)
            && !(pc.len() == 5 && pc.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(("postal_code".into(), "Un code postal a 5 chiffres.".into()));
        }
        if let Some(e) = clean(&self.email)
            && (!e.contains('@') || e.contains(char::is_whitespace))
        {
            errors.push((
                "email".into(),
                "Adresse électronique invalide (exemple : archives@ville.fr).".into(),
            ));
        }
        for (field, v) in [
            ("website", &self.website),
            ("request_url", &self.request_url),
        ] {
            if let Some(u) = clean(v)
                && !(u.starts_with("https://") || u.starts_with("http://"))
            {
                errors.push((field.into(), "Une adresse web commence par https://".into()));
            }
        }
        s.address = clean(&self.address);
        s.postal_code = clean(&self.postal_code);
        s.city = clean(&self.city);
        s.phone = clean(&self.phone);
        s.email = clean(&self.email);
        s.website = clean(&self.website);
        s.request_url = clean(&self.request_url);
        s.opening_hours = clean(&self.opening_hours);
        s.response_time = clean(&self.response_time);
        if errors.is_empty() {
            Ok(s)
        } else {
            Err(errors)
        }
    }
}

fn service_form_page(
    access: &Access,
    id: &str,
    f: &ServiceForm,
    revision: i64,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
) -> Page {
    let mut p = page(access, "Modifier le service");
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    let kinds = ServiceKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), k.as_str().to_owned()))
        .collect();
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/services/{id}/modifier"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), revision.to_string())],
        fields: vec![
            Field::text("name", "Nom", &f.name).error(e("name")),
            Field::select("kind", "Type de service", kinds, &f.kind).error(e("kind")),
            Field::text("commune", "Commune (code INSEE)", &f.commune)
                .hint("5 caractères, par exemple 35238 pour Rennes")
                .error(e("commune")),
            Field::text("address", "Adresse", &f.address).error(e("address")),
            Field::text("postal_code", "Code postal", &f.postal_code).error(e("postal_code")),
            Field::text("city", "Ville", &f.city).error(e("city")),
            Field::text("phone", "Téléphone", &f.phone).error(e("phone")),
            Field::email("email", "Courriel", &f.email).error(e("email")),
            Field::text("website", "Site internet", &f.website).error(e("website")),
            Field::text(
                "request_url",
                "Formulaire de demande en ligne",
                &f.request_url,
            )
            .error(e("request_url")),
            Field::textarea("opening_hours", "Horaires", &f.opening_hours)
                .error(e("opening_hours")),
            Field::text(
                "response_time",
                "Délai de réponse habituel",
                &f.response_time,
            )
            .error(e("response_time")),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.errors = errors;
    p
}

pub async fn service_edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    access: Access,
) -> Response {
    let snap = state.live.snapshot();
    let Some(s) = snap.service(&id) else {
        return not_found();
    };
    let rev = match state.live.store().revision(Entity::Service, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let mut p = service_form_page(&access, &id, &ServiceForm::of(s), rev, vec![], None);
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/services/{id}/verifie"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![],
        buttons: vec![Button::named(
            "verify",
            "1",
            "Ces informations sont à jour",
            true,
        )],
    }));
    view::render(&p)
}

pub async fn service_save(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { access, form }: Posted<ServiceForm>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let store = state.live.store();
    // The current state from the store, not the snapshot: it may be newer.
    let current = match store.revision(Entity::Service, &id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let snap = state.live.snapshot();
    let Some(base) = snap.service(&id) else {
        return not_found();
    };
    let rev = form.revision.unwrap_or(current);
    match form.apply(base, &snap) {
        Err(errors) => with_status(
            view::render(&service_form_page(&access, &id, &form, rev, errors, None)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(s) => match store
            .save(
                &author,
                Entity::Service,
                Some(&id),
                Some(rev),
                Some(Record::Service(s)),
            )
            .await
        {
            Ok(_) => {
                let _ = state.live.refresh().await;
                see_other(&format!("/admin/services/{id}"))
            }
            Err(e) => with_status(
                view::render(&service_form_page(
                    &access,
                    &id,
                    &form,
                    rev,
                    vec![],
                    Some(write_error_notice(&e)),
                )),
                write_error_status(&e),
            ),
        },
    }
}

#[derive(Deserialize)]
pub struct RevisionForm {
    #[serde(default)]
    revision: Option<i64>,
}

pub async fn service_verified(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { access, form }: Posted<RevisionForm>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let snap = state.live.snapshot();
    let Some(s) = snap.service(&id) else {
        return not_found();
    };
    let mut s = s.clone();
    s.verified_at = Some(state.clock.today());
    match state
        .live
        .store()
        .save(
            &author,
            Entity::Service,
            Some(&id),
            form.revision,
            Some(Record::Service(s)),
        )
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            see_other(&format!("/admin/services/{id}"))
        }
        Err(e) => write_error_page(&access, e),
    }
}

fn write_error_page(access: &Access, e: WriteError) -> Response {
    if let WriteError::Store(s) = &e {
        return unexpected(s);
    }
    let mut p = page(access, "Enregistrement impossible");
    p.notice = Some(write_error_notice(&e));
    p.blocks.push(Block::Links(vec![(
        "Retour à mes données".into(),
        "/admin".into(),
    )]));
    with_status(view::render(&p), write_error_status(&e))
}

// ---------------------------------------------------------------- rules

#[derive(Debug, Default, Deserialize)]
pub struct RulesQuery {
    #[serde(default, rename = "type")]
    document_type: String,
    #[serde(default)]
    commune: String,
}

fn period_text(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (None, None) => "toutes dates".into(),
        (Some(f), None) => format!("depuis le {}", f.format("%d/%m/%Y")),
        (None, Some(t)) => format!("jusqu'au {}", t.format("%d/%m/%Y")),
        (Some(f), Some(t)) => format!("du {} au {}", f.format("%d/%m/%Y"), t.format("%d/%m/%Y")),
    }
}

/// The public answer for a commune and a date, as lines of text.
fn answer_lines(
    snap: &Snapshot,
    doc: &str,
    commune: &str,
    when: When,
    today: NaiveDate,
) -> Vec<(String, String)> {
    match snap.locate(doc, commune, when, today) {
        Err(e) => vec![("Réponse".into(), e.to_string())],
        Ok(a) => {
            let mut lines: Vec<(String, String)> = a
                .matches
                .iter()
                .map(|m| (period_text(m.period.from, m.period.to), m.holder.name()))
                .collect();
            for gap in &a.uncovered {
                lines.push((
                    period_text(gap.from, gap.to),
                    "aucune règle : réponse générale".into(),
                ));
            }
            if lines.is_empty() {
                lines.push(("Réponse".into(), "aucun détenteur connu".into()));
            }
            lines
        }
    }
}

pub async fn rules(
    State(state): State<AppState>,
    Query(q): Query<RulesQuery>,
    access: Access,
) -> Response {
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let holdings = match state.live.store().stored_holdings().await {
        Ok(h) => h,
        Err(e) => return unexpected(e),
    };
    let mut p = page(&access, "Règles de détention");
    let docs: Vec<(String, String)> = std::iter::once((String::new(), "Tous".to_owned()))
        .chain(
            snap.document_types()
                .iter()
                .map(|d| (d.slug.to_string(), d.label.clone())),
        )
        .collect();
    p.blocks.push(Block::Form(FormView {
        action: "/admin/regles".into(),
        csrf: String::new(),
        hidden: vec![],
        fields: vec![
            Field::select("type", "Type de document", docs, &q.document_type),
            Field::text("commune", "Commune (code INSEE)", &q.commune)
                .hint("pour voir la chronologie de tous les niveaux qui la concernent"),
        ],
        buttons: vec![Button::primary("Afficher")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Ajouter une règle".into(),
        "/admin/regles/nouvelle".into(),
    )]));
    let commune = InseeCode::parse(q.commune.trim())
        .ok()
        .and_then(|c| snap.territories().resolve(c));
    let doc = q.document_type.trim();
    let selected: Vec<&StoredHolding> = match &commune {
        Some(r) => {
            let mut levels = vec![format!("commune:{}", r.current.code)];
            if let Some(f) = r.former_code {
                levels.insert(0, format!("commune:{f}"));
            }
            if let Some(e) = &r.current.epci {
                levels.push(format!("epci:{e}"));
            }
            levels.push(format!("departement:{}", r.current.departement));
            levels.push("france".into());
            let mut v: Vec<&StoredHolding> = holdings
                .iter()
                .filter(|h| doc.is_empty() || h.rule.document_type.as_str() == doc)
                .filter(|h| levels.contains(&h.rule.territory.to_string()))
                .collect();
            v.sort_by_key(|h| (h.rule.territory.level(), h.rule.start(today)));
            v
        }
        None => holdings
            .iter()
            .filter(|h| doc.is_empty() || h.rule.document_type.as_str() == doc)
            .collect(),
    };
    let caption = match &commune {
        Some(r) => format!(
            "Chronologie des détenteurs pour {} ({}), du niveau le plus précis au plus général",
            r.current.name, r.current.code
        ),
        None => "Toutes les règles".into(),
    };
    let found = gaps(&selected, today);
    p.blocks.push(Block::Table(timeline_table(
        &caption, &selected, &found, &snap,
    )));
    for g in &found {
        p.blocks.push(Block::P(format!(
            "{} La réponse publique vient alors d'un niveau plus général.",
            g.text()
        )));
    }
    // Overlaps: two rules of one type and territory sharing a day.
    let mut overlaps = vec![];
    for (i, a) in selected.iter().enumerate() {
        for b in &selected[i + 1..] {
            if a.rule.document_type == b.rule.document_type
                && a.rule.territory == b.rule.territory
                && a.rule.overlaps(&b.rule, today)
            {
                overlaps.push(format!(
                    "Les règles n° {} et n° {} se chevauchent.",
                    a.id, b.id
                ));
            }
        }
    }
    for o in overlaps {
        p.blocks.push(Block::P(o));
    }
    if let (Some(r), false) = (&commune, doc.is_empty()) {
        p.blocks
            .push(Block::H2("Réponse publique, toutes dates".into()));
        p.blocks.push(Block::Dl(answer_lines(
            &snap,
            doc,
            r.current.code.as_str(),
            When::Unknown,
            today,
        )));
    }
    view::render(&p)
}

pub async fn rule_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    access: Access,
) -> Response {
    let snap = state.live.snapshot();
    let held = match state.live.store().stored_holding(id).await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let r = &held.rule;
    let mut p = page(&access, &format!("Règle n° {id}"));
    p.blocks.push(Block::Dl(vec![
        ("Type de document".into(), r.document_type.to_string()),
        ("Territoire".into(), r.territory.to_string()),
        (
            "Du".into(),
            r.from.map(|b| b.to_string()).unwrap_or_default(),
        ),
        ("Au".into(), r.to.map(|b| b.to_string()).unwrap_or_default()),
        ("Détenteur".into(), holder_name(&snap, &r.service)),
        ("Consignes".into(), opt(&r.instructions)),
        ("Source".into(), opt(&r.source)),
        ("Vérifiée le".into(), day_text(r.verified_at)),
    ]));
    let mut links = vec![];
    if access.user.as_ref().is_some_and(|u| can_edit_rule(u, r)) {
        links.push((
            "Modifier cette règle".into(),
            format!("/admin/regles/{id}/modifier"),
        ));
    }
    links.push((
        "Historique des modifications".into(),
        format!("/admin/historique/regle/{id}"),
    ));
    p.blocks.push(Block::Links(links));
    view::render(&p)
}

/// The rule form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    document_type: String,
    #[serde(default)]
    territory: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    preview_commune: String,
    #[serde(default)]
    preview_date: String,
}

impl RuleForm {
    fn of(r: &HoldingRule) -> RuleForm {
        RuleForm {
            document_type: r.document_type.to_string(),
            territory: r.territory.to_string(),
            from: r.from.map(|b| b.to_string()).unwrap_or_default(),
            to: r.to.map(|b| b.to_string()).unwrap_or_default(),
            service: r.service.to_string(),
            instructions: opt(&r.instructions),
            source: opt(&r.source),
            ..RuleForm::default()
        }
    }

    /// Parses the form into a rule, or says what is wrong, field by field.
    /// `replacing` is the rule being edited (left out of the overlap check).
    fn parse(
        &self,
        user: &User,
        snap: &Snapshot,
        today: NaiveDate,
        replacing: Option<&HoldingRule>,
        verified_at: Option<NaiveDate>,
    ) -> Result<HoldingRule, Vec<(String, String)>> {
        let mut errors: Vec<(String, String)> = vec![];
        let mut push = |f: &str, m: String| errors.push((f.into(), m));
        let doc = match Slug::parse(self.document_type.trim()) {
            Ok(s) if snap.document_type(s.as_str()).is_some() => Some(s),
            _ => {
                push(
                    "document_type",
                    "Choisissez un type de document dans la liste.".into(),
                );
                None
            }
        };
        let territory = match Territory::parse(&self.territory) {
            Ok(t) => Some(t),
            Err(e) => {
                push("territory", e.to_string());
                None
            }
        };
        let bound = |v: &str, f: &str, errs: &mut Vec<(String, String)>| -> Option<Bound> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match Bound::parse(v) {
                Ok((b, _)) => Some(b),
                Err(e) => {
                    errs.push((f.into(), e.to_string()));
                    None
                }
            }
        };
        let from = bound(&self.from, "from", &mut errors);
        let to = bound(&self.to, "to", &mut errors);
        let service = match ServiceRef::parse(&self.service) {
            Ok(ServiceRef::Id(s)) if snap.service(s.as_str()).is_none() => {
                errors.push((
                    "service".into(),
                    format!("Aucun service n'a l'identifiant « {s} »."),
                ));
                None
            }
            Ok(r) => Some(r),
            Err(_) => {
                errors.push((
                    "service".into(),
                    "Choisissez le détenteur dans la liste.".into(),
                ));
                None
            }
        };
        check_len(&mut errors, "instructions", &self.instructions, 2000);
        check_len(&mut errors, "source", &self.source, MAX_TEXT);
        let (Some(document_type), Some(territory), Some(service)) = (doc, territory, service)
        else {
            return Err(errors);
        };
        let rule = HoldingRule {
            document_type,
            territory,
            from,
            to,
            service,
            instructions: clean(&self.instructions),
            source: clean(&self.source),
            verified_at,
        };
        if rule.is_empty_period(today) {
            errors.push((
                "to".into(),
                "La fin de la période est avant son début.".into(),
            ));
        }
        if !can_edit_rule(user, &rule) {
            errors.push((
                "service".into(),
                if rule.territory == Territory::France && user.role < Role::Editor {
                    "Les règles nationales (territoire france) sont réservées aux éditeurs.".into()
                } else {
                    "Vous ne pouvez attribuer une règle qu'à l'un de vos services.".into()
                },
            ));
        }
        for other in snap.holdings() {
            if Some(other) == replacing
                || other.document_type != rule.document_type
                || other.territory != rule.territory
            {
                continue;
            }
            if other.overlaps(&rule, today) {
                errors.push((
                    "from".into(),
                    format!(
                        "Cette période chevauche une autre règle ({} – {}, {}) : ajustez les dates de l'une ou de l'autre.",
                        other.from.map(|b| b.to_string()).unwrap_or("début".into()),
                        other.to.map(|b| b.to_string()).unwrap_or("aujourd'hui".into()),
                        holder_name(snap, &other.service)
                    ),
                ));
                break;
            }
        }
        if errors.is_empty() {
            Ok(rule)
        } else {
            Err(errors)
        }
    }
}

fn rule_fields(
    snap: &Snapshot,
    user: &User,
    f: &RuleForm,
    errors: &[(String, String)],
) -> Vec<Field> {
    let e = |n: &str| err_of(errors, n);
    let docs = snap
        .document_types()
        .iter()
        .map(|d| (d.slug.to_string(), d.label.clone()))
        .collect();
    let mut holders: Vec<(String, String)> = snap
        .services()
        .iter()
        .filter(|s| super::can_edit_service(user, s.id.as_str()))
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    if user.role >= Role::Editor {
        holders.insert(0, ("@mairie".into(), "La mairie de la commune".into()));
    }
    vec![
        Field::select("document_type", "Type de document", docs, &f.document_type)
            .error(e("document_type")),
        Field::text("territory", "Territoire", &f.territory)
            .hint("commune:35238, epci:243500139, departement:35 ou france")
            .error(e("territory")),
        Field::text("from", "Du", &f.from)
            .hint("AAAA-MM-JJ, AAAA ou -75y ; vide : depuis toujours")
            .error(e("from")),
        Field::text("to", "Au", &f.to)
            .hint("AAAA-MM-JJ, AAAA ou -75y ; vide : jusqu'à aujourd'hui")
            .error(e("to")),
        Field::select("service", "Détenteur", holders, &f.service).error(e("service")),
        Field::textarea(
            "instructions",
            "Consignes pour le demandeur",
            &f.instructions,
        )
        .error(e("instructions")),
        Field::text("source", "Source", &f.source).error(e("source")),
    ]
}

pub async fn rule_new(State(state): State<AppState>, access: Access) -> Response {
    let Ok(user) = access.user() else {
        return not_found();
    };
    let snap = state.live.snapshot();
    let mut p = page(&access, "Nouvelle règle");
    let f = RuleForm::default();
    p.blocks.push(Block::Form(FormView {
        action: "/admin/regles/nouvelle".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        fields: rule_fields(&snap, user, &f, &[]),
        buttons: vec![Button::primary("Créer la règle")],
    }));
    view::render(&p)
}

pub async fn rule_create(
    State(state): State<AppState>,
    Posted { access, form }: Posted<RuleForm>,
) -> Response {
    let (Ok(user), Ok(author)) = (access.user(), access.author()) else {
        return not_found();
    };
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let parsed = form.parse(user, &snap, today, None, Some(today));
    // A rule for another service's holder is refused outright (403), not
    // merely shown as a field error: it can only come from a hand-made request.
    if let Ok(ServiceRef::Id(s)) = ServiceRef::parse(&form.service)
        && user.role < Role::Editor
        && !user.services.iter().any(|x| x == s.as_str())
    {
        return super::forbidden("Vous ne pouvez créer de règle que pour vos services.");
    }
    let rule = match parsed {
        Ok(r) => r,
        Err(errors) => {
            let mut p = page(&access, "Nouvelle règle");
            p.blocks.push(Block::Form(FormView {
                action: "/admin/regles/nouvelle".into(),
                csrf: access.csrf.clone(),
                hidden: vec![],
                fields: rule_fields(&snap, user, &form, &errors),
                buttons: vec![Button::primary("Créer la règle")],
            }));
            p.errors = errors;
            return with_status(view::render(&p), StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state
        .live
        .store()
        .save(
            &author,
            Entity::Holding,
            None,
            None,
            Some(Record::Holding(rule)),
        )
        .await
    {
        Ok(key) => {
            let _ = state.live.refresh().await;
            see_other(&format!("/admin/regles/{key}"))
        }
        Err(e) => write_error_page(&access, e),
    }
}

#[allow(clippy::too_many_arguments)]
fn rule_edit_page(
    access: &Access,
    snap: &Snapshot,
    user: &User,
    id: i64,
    f: &RuleForm,
    revision: i64,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
    preview: Vec<Block>,
) -> Page {
    let mut p = page(access, &format!("Modifier la règle n° {id}"));
    p.notice = notice;
    let mut fields = rule_fields(snap, user, f, &errors);
    fields.push(
        Field::text(
            "preview_commune",
            "Aperçu : commune (code INSEE)",
            &f.preview_commune,
        )
        .hint("pour voir la réponse publique avant et après la modification"),
    );
    fields.push(
        Field::text("preview_date", "Aperçu : date du document", &f.preview_date)
            .hint("AAAA-MM-JJ ; vide : toutes dates"),
    );
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/regles/{id}/modifier"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), revision.to_string())],
        fields,
        buttons: vec![
            Button::named("action", "preview", "Prévisualiser", true),
            Button::named("action", "save", "Enregistrer", false),
        ],
    }));
    p.blocks.extend(preview);
    p.blocks.push(Block::H2("Autres actions".into()));
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/regles/{id}/verifie"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), revision.to_string())],
        fields: vec![],
        buttons: vec![Button::named(
            "verify",
            "1",
            "Ces informations sont à jour",
            true,
        )],
    }));
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/regles/{id}/supprimer"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), revision.to_string())],
        fields: vec![],
        buttons: vec![Button::named("delete", "1", "Supprimer cette règle", true)],
    }));
    p.errors = errors;
    p
}

pub async fn rule_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    access: Access,
) -> Response {
    let Ok(user) = access.user() else {
        return not_found();
    };
    let held = match state.live.store().stored_holding(id).await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let snap = state.live.snapshot();
    let f = RuleForm::of(&held.rule);
    view::render(&rule_edit_page(
        &access,
        &snap,
        user,
        id,
        &f,
        held.revision,
        vec![],
        None,
        vec![],
    ))
}

/// The public answer before and after a change, for a commune and a date.
async fn preview_blocks(
    state: &AppState,
    snap: &Snapshot,
    old: &HoldingRule,
    new: &HoldingRule,
    f: &RuleForm,
) -> Vec<Block> {
    let today = state.clock.today();
    let commune = f.preview_commune.trim();
    if commune.is_empty() {
        return vec![Block::P(
            "Indiquez une commune dans « Aperçu » pour voir la réponse publique avant et après."
                .into(),
        )];
    }
    let when = match clean(&f.preview_date) {
        None => When::Unknown,
        Some(d) => match parse_day(&d) {
            Ok((d, _)) => When::Day(d),
            Err(e) => return vec![Block::P(e.to_string())],
        },
    };
    let mut data = match state.live.store().load_ref_data().await {
        Ok(d) => d,
        Err(e) => return vec![Block::P(format!("Aperçu impossible : {e}"))],
    };
    data.holdings.retain(|h| h != old);
    data.holdings.push(new.clone());
    let after = Snapshot::build(snap.version, snap.geo().clone(), data);
    let doc = new.document_type.as_str();
    vec![
        Block::H2("Aperçu de la réponse publique".into()),
        Block::P("Avant la modification :".into()),
        Block::Dl(answer_lines(
            snap,
            old.document_type.as_str(),
            commune,
            when,
            today,
        )),
        Block::P("Après la modification :".into()),
        Block::Dl(answer_lines(&after, doc, commune, when, today)),
    ]
}

pub async fn rule_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { access, form }: Posted<RuleForm>,
) -> Response {
    let (Ok(user), Ok(author)) = (access.user(), access.author()) else {
        return not_found();
    };
    let store = state.live.store();
    let held = match store.stored_holding(id).await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let snap = state.live.snapshot();
    let today = state.clock.today();
    let rev = form.revision.unwrap_or(held.revision);
    let parsed = form.parse(user, &snap, today, Some(&held.rule), held.rule.verified_at);
    // Moving a rule to another service's holder is refused outright.
    if let Ok(ServiceRef::Id(s)) = ServiceRef::parse(&form.service)
        && user.role < Role::Editor
        && !user.services.iter().any(|x| x == s.as_str())
    {
        return super::forbidden("Vous ne pouvez attribuer une règle qu'à l'un de vos services.");
    }
    let rule = match parsed {
        Ok(r) => r,
        Err(errors) => {
            return with_status(
                view::render(&rule_edit_page(
                    &access,
                    &snap,
                    user,
                    id,
                    &form,
                    rev,
                    errors,
                    None,
                    vec![],
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if form.action == "preview" {
        let blocks = preview_blocks(&state, &snap, &held.rule, &rule, &form).await;
        return view::render(&rule_edit_page(
            &access,
            &snap,
            user,
            id,
            &form,
            rev,
            vec![],
            None,
            blocks,
        ));
    }
    match store
        .save(
            &author,
            Entity::Holding,
            Some(&id.to_string()),
            Some(rev),
            Some(Record::Holding(rule)),
        )
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            see_other(&format!("/admin/regles/{id}"))
        }
        Err(e) => with_status(
            view::render(&rule_edit_page(
                &access,
                &snap,
                user,
                id,
                &form,
                rev,
                vec![],
                Some(write_error_notice(&e)),
                vec![],
            )),
            write_error_status(&e),
        ),
    }
}

pub async fn rule_delete(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { access, form }: Posted<RevisionForm>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    match state
        .live
        .store()
        .save(
            &author,
            Entity::Holding,
            Some(&id.to_string()),
            form.revision,
            None,
        )
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            see_other("/admin/regles")
        }
        Err(e) => write_error_page(&access, e),
    }
}

pub async fn rule_verified(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { access, form }: Posted<RevisionForm>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let store = state.live.store();
    let mut held = match store.stored_holding(id).await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    held.rule.verified_at = Some(state.clock.today());
    match store
        .save(
            &author,
            Entity::Holding,
            Some(&id.to_string()),
            form.revision,
            Some(Record::Holding(held.rule)),
        )
        .await
    {
        Ok(_) => {
            let _ = state.live.refresh().await;
            see_other(&format!("/admin/regles/{id}"))
        }
        Err(e) => write_error_page(&access, e),
    }
}

// ---------------------------------------------------------------- document types

pub async fn types(State(state): State<AppState>, access: Access) -> Response {
    let snap = state.live.snapshot();
    let mut p = page(&access, "Types de documents");
    p.blocks.push(Block::Table(Table {
        caption: "Types de documents".into(),
        head: vec![
            "Libellé".into(),
            "Identifiant".into(),
            "Délai (années)".into(),
        ],
        rows: snap
            .document_types()
            .iter()
            .map(|d| {
                vec![
                    Cell::link(&d.label, format!("/admin/types/{}", d.slug)),
                    Cell::text(d.slug.as_str()),
                    Cell::text(d.communicability_years.to_string()),
                ]
            })
            .collect(),
    }));
    view::render(&p)
}

#[derive(Debug, Default, Deserialize)]
pub struct TypeForm {
    #[serde(default)]
    label: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    aliases: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    communicability_years: String,
    #[serde(default)]
    communicability_note: String,
    #[serde(default)]
    revision: Option<i64>,
}

impl TypeForm {
    fn of(d: &DocumentType) -> TypeForm {
        TypeForm {
            label: d.label.clone(),
            theme: opt(&d.theme),
            aliases: d.aliases.join(", "),
            description: opt(&d.description),
            communicability_years: d.communicability_years.to_string(),
            communicability_note: opt(&d.communicability_note),
            revision: None,
        }
    }

    fn apply(&self, base: &DocumentType) -> Result<DocumentType, Vec<(String, String)>> {
        let mut errors = vec![];
        let mut d = base.clone();
        if self.label.trim().is_empty() {
            errors.push(("label".into(), "Indiquez un libellé.".into()));
        }
        check_len(&mut errors, "label", &self.label, 200);
        check_len(&mut errors, "theme", &self.theme, 200);
        check_len(&mut errors, "aliases", &self.aliases, 1000);
        check_len(&mut errors, "description", &self.description, 5000);
        check_len(
            &mut errors,
            "communicability_note",
            &self.communicability_note,
            2000,
        );
        match self.communicability_years.trim().parse::<u32>() {
            Ok(y) if y <= 200 => d.communicability_years = y,
            _ => errors.push((
                "communicability_years".into(),
                "Indiquez un nombre d'années entre 0 et 200 (0 : librement communicable).".into(),
            )),
        }
        d.label = self.label.trim().to_owned();
        d.theme = clean(&self.theme);
        d.aliases = self.aliases.split([',', '|']).filter_map(clean).collect();
        d.description = clean(&self.description);
        d.communicability_note = clean(&self.communicability_note);
        if errors.is_empty() {
            Ok(d)
        } else {
            Err(errors)
        }
    }
}

fn type_page(
    access: &Access,
    slug: &str,
    f: &TypeForm,
    rev: i64,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
) -> Page {
    let mut p = page(access, "Modifier le type de document");
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/types/{slug}"),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![
            Field::text("label", "Libellé", &f.label).error(e("label")),
            Field::text("theme", "Thème", &f.theme).error(e("theme")),
            Field::text("aliases", "Autres noms", &f.aliases)
                .hint("séparés par des virgules, par exemple : PC, permis")
                .error(e("aliases")),
            Field::textarea("description", "Description", &f.description).error(e("description")),
            Field::text(
                "communicability_years",
                "Délai de communicabilité (années)",
                &f.communicability_years,
            )
            .error(e("communicability_years")),
            Field::textarea(
                "communicability_note",
                "Exceptions au délai",
                &f.communicability_note,
            )
            .error(e("communicability_note")),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Historique des modifications".into(),
        format!("/admin/historique/type/{slug}"),
    )]));
    p.errors = errors;
    p
}

pub async fn type_edit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    access: Access,
) -> Response {
    let snap = state.live.snapshot();
    let Some(d) = snap.document_type(&slug) else {
        return not_found();
    };
    let rev = match state
        .live
        .store()
        .revision(Entity::DocumentType, &slug)
        .await
    {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    view::render(&type_page(
        &access,
        &slug,
        &TypeForm::of(d),
        rev,
        vec![],
        None,
    ))
}

pub async fn type_save(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Posted { access, form }: Posted<TypeForm>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let snap = state.live.snapshot();
    let Some(base) = snap.document_type(&slug) else {
        return not_found();
    };
    let rev = form.revision.unwrap_or_default();
    match form.apply(base) {
        Err(errors) => with_status(
            view::render(&type_page(&access, &slug, &form, rev, errors, None)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(d) => match state
            .live
            .store()
            .save(
                &author,
                Entity::DocumentType,
                Some(&slug),
                Some(rev),
                Some(Record::DocumentType(d)),
            )
            .await
        {
            Ok(_) => {
                let _ = state.live.refresh().await;
                see_other("/admin/types")
            }
            Err(e) => with_status(
                view::render(&type_page(
                    &access,
                    &slug,
                    &form,
                    rev,
                    vec![],
                    Some(write_error_notice(&e)),
                )),
                write_error_status(&e),
            ),
        },
    }
}

// ---------------------------------------------------------------- history

fn field_label(f: &str) -> String {
    let known: HashMap<&str, &str> = [
        ("name", "Nom"),
        ("kind", "Type"),
        ("commune", "Commune"),
        ("address", "Adresse"),
        ("postal_code", "Code postal"),
        ("city", "Ville"),
        ("phone", "Téléphone"),
        ("email", "Courriel"),
        ("website", "Site internet"),
        ("request_url", "Formulaire de demande"),
        ("opening_hours", "Horaires"),
        ("response_time", "Délai de réponse"),
        ("verified_at", "Vérifié le"),
        ("document_type", "Type de document"),
        ("territory", "Territoire"),
        ("from", "Du"),
        ("to", "Au"),
        ("service", "Détenteur"),
        ("instructions", "Consignes"),
        ("source", "Source"),
        ("label", "Libellé"),
        ("aliases", "Autres noms"),
        ("communicability_years", "Délai (années)"),
        ("role", "Rôle"),
        ("active", "Actif"),
        ("services", "Services"),
    ]
    .into_iter()
    .collect();
    known
        .get(f)
        .map(|s| (*s).to_owned())
        .unwrap_or_else(|| f.to_owned())
}

pub async fn history(
    State(state): State<AppState>,
    Path((entity, key)): Path<(String, String)>,
    access: Access,
) -> Response {
    let Some(entity) = Entity::parse(&entity) else {
        return not_found();
    };
    // Users' history is for administrators only.
    if entity == Entity::User && access.user.as_ref().is_none_or(|u| u.role != Role::Admin) {
        return super::forbidden("L'historique des comptes est réservé aux administrateurs.");
    }
    let entries = match state.live.store().history_of(entity, &key).await {
        Ok(e) => e,
        Err(e) => return unexpected(e),
    };
    let mut p = page(&access, &format!("Historique : {} {key}", entity.as_str()));
    if entries.is_empty() {
        p.blocks.push(Block::P(
            "Aucune modification enregistrée depuis l'administration.".into(),
        ));
    }
    for e in &entries {
        let what = match (&e.before, &e.after) {
            (None, _) => "création",
            (_, None) => "suppression",
            _ => "modification",
        };
        p.blocks
            .push(Block::H2(format!("{} – {what} par {}", e.at, e.user_email)));
        if let Some(r) = e.reverts {
            p.blocks
                .push(Block::P(format!("Annule la modification n° {r}.")));
        }
        p.blocks.push(Block::Table(Table {
            caption: format!("Champs modifiés (modification n° {})", e.id),
            head: vec!["Champ".into(), "Avant".into(), "Après".into()],
            rows: e
                .changed_fields()
                .into_iter()
                .map(|(f, b, a)| vec![Cell::text(field_label(&f)), Cell::text(b), Cell::text(a)])
                .collect(),
        }));
        if let Some(by) = e.reverted_by {
            p.blocks
                .push(Block::P(format!("Annulée par la modification n° {by}.")));
        } else if access.is_editor() {
            p.blocks.push(Block::Form(FormView {
                action: format!("/admin/historique/{}/annuler", e.id),
                csrf: access.csrf.clone(),
                hidden: vec![],
                fields: vec![],
                buttons: vec![Button::named(
                    "revert",
                    "1",
                    &format!("Annuler la modification n° {}", e.id),
                    true,
                )],
            }));
        }
    }
    view::render(&p)
}

pub async fn revert(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { access, .. }: Posted<auth::Empty>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    match state.live.store().revert(&author, id).await {
        Ok(entry) => {
            let _ = state.live.refresh().await;
            see_other(&format!(
                "/admin/historique/{}/{}",
                entry.entity.as_str(),
                entry.key
            ))
        }
        Err(e) => write_error_page(&access, e),
    }
}

// ---------------------------------------------------------------- users

fn users_page(
    access: &Access,
    snap: &Snapshot,
    users: &[User],
    f: &InviteForm,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
) -> Page {
    let mut p = page(access, "Utilisateurs");
    p.notice = notice;
    p.blocks.push(Block::Table(Table {
        caption: "Comptes".into(),
        head: vec![
            "Adresse".into(),
            "Rôle".into(),
            "Services".into(),
            "État".into(),
        ],
        rows: users
            .iter()
            .map(|u| {
                vec![
                    Cell::link(&u.email, format!("/admin/utilisateurs/{}", u.id)),
                    Cell::text(u.role.label()),
                    Cell::text(u.services.join(", ")),
                    Cell::text(match (u.active, u.has_password) {
                        (false, _) => "désactivé",
                        (true, false) => "invitation en attente",
                        (true, true) => "actif",
                    }),
                ]
            })
            .collect(),
    }));
    p.blocks.push(Block::H2("Inviter une personne".into()));
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: "/admin/utilisateurs".into(),
        csrf: access.csrf.clone(),
        hidden: vec![],
        fields: vec![
            Field::email("email", "Adresse électronique", &f.email).error(e("email")),
            role_field(&f.role).error(e("role")),
            services_field(snap, &f.services).error(e("services")),
        ],
        buttons: vec![Button::primary("Envoyer l'invitation")],
    }));
    p.errors = errors;
    p
}

fn role_field(selected: &str) -> Field {
    Field::select(
        "role",
        "Rôle",
        Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), r.label().to_owned()))
            .collect(),
        if selected.is_empty() {
            "contributor"
        } else {
            selected
        },
    )
}

fn services_field(snap: &Snapshot, selected: &[String]) -> Field {
    Field::checkboxes(
        "services",
        "Services confiés (pour un contributeur)",
        snap.services()
            .iter()
            .map(|s| {
                (
                    s.id.to_string(),
                    s.name.clone(),
                    selected.iter().any(|x| x == s.id.as_str()),
                )
            })
            .collect(),
    )
}

/// Reads repeated `services` fields, which serde's form decoding cannot.
fn services_of_form(raw: &[(String, String)]) -> Vec<String> {
    raw.iter()
        .filter(|(k, _)| k == "services")
        .map(|(_, v)| v.clone())
        .collect()
}

#[derive(Debug, Default)]
pub struct InviteForm {
    email: String,
    role: String,
    services: Vec<String>,
}

pub async fn users(State(state): State<AppState>, access: Access) -> Response {
    let users = match state.live.store().users().await {
        Ok(u) => u,
        Err(e) => return unexpected(e),
    };
    let snap = state.live.snapshot();
    view::render(&users_page(
        &access,
        &snap,
        &users,
        &InviteForm::default(),
        vec![],
        None,
    ))
}

fn check_scope(snap: &Snapshot, role: Option<Role>, services: &[String]) -> Vec<(String, String)> {
    let mut errors = vec![];
    if role.is_none() {
        errors.push(("role".into(), "Choisissez un rôle dans la liste.".into()));
    }
    if let Some(s) = services.iter().find(|s| snap.service(s).is_none()) {
        errors.push((
            "services".into(),
            format!("Aucun service n'a l'identifiant « {s} »."),
        ));
    }
    if role == Some(Role::Contributor) && services.is_empty() {
        errors.push((
            "services".into(),
            "Un contributeur doit avoir au moins un service.".into(),
        ));
    }
    errors
}

pub async fn user_invite(
    State(state): State<AppState>,
    Posted { access, form }: Posted<Vec<(String, String)>>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let f = InviteForm {
        email: get("email").to_lowercase(),
        role: get("role"),
        services: services_of_form(&form),
    };
    let snap = state.live.snapshot();
    let store = state.live.store();
    let role = Role::parse(&f.role);
    let mut errors = check_scope(&snap, role, &f.services);
    if !f.email.contains('@') || f.email.contains(char::is_whitespace) || f.email.len() > 254 {
        errors.push((
            "email".into(),
            "Adresse électronique invalide (exemple : prenom.nom@ville.fr).".into(),
        ));
    }
    let users = match store.users().await {
        Ok(u) => u,
        Err(e) => return unexpected(e),
    };
    if users.iter().any(|u| u.email == f.email) {
        errors.push((
            "email".into(),
            "Un compte existe déjà pour cette adresse.".into(),
        ));
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return with_status(
            view::render(&users_page(&access, &snap, &users, &f, errors, None)),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let services = if role == Role::Contributor {
        f.services.clone()
    } else {
        vec![]
    };
    let (user, link) = match auth::invite(
        store.as_ref(),
        &state.admin,
        &f.email,
        role,
        &services,
        Some(&author),
    )
    .await
    {
        Ok(x) => x,
        Err(e) => return write_error_page(&access, e),
    };
    let (subject, body) = auth::invitation_mail(&link, role);
    let notice = match state.admin.mailer.send(&user.email, &subject, body).await {
        Ok(()) => Notice::success(
            "Invitation envoyée",
            &format!("Un lien d'invitation a été envoyé à {}.", user.email),
        ),
        Err(e) => {
            tracing::error!(error = %e, "invitation mail not sent");
            Notice::error(
                "Compte créé, message non envoyé",
                "Le compte est créé mais le message n'a pas pu partir : vérifiez la configuration de l'envoi de courriels.",
            )
        }
    };
    let users = store.users().await.unwrap_or(users);
    view::render(&users_page(
        &access,
        &snap,
        &users,
        &InviteForm::default(),
        vec![],
        Some(notice),
    ))
}

#[allow(clippy::too_many_arguments)]
fn user_page(
    access: &Access,
    snap: &Snapshot,
    u: &User,
    role: &str,
    active: bool,
    services: &[String],
    rev: i64,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
) -> Page {
    let mut p = page(access, &format!("Compte {}", u.email));
    p.notice = notice;
    let e = |n: &str| err_of(&errors, n);
    p.blocks.push(Block::Form(FormView {
        action: format!("/admin/utilisateurs/{}", u.id),
        csrf: access.csrf.clone(),
        hidden: vec![("revision".into(), rev.to_string())],
        fields: vec![
            role_field(role).error(e("role")),
            Field::select(
                "active",
                "État du compte",
                vec![
                    ("1".into(), "actif".into()),
                    ("0".into(), "désactivé".into()),
                ],
                if active { "1" } else { "0" },
            ),
            services_field(snap, services).error(e("services")),
        ],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Historique du compte".into(),
        format!("/admin/historique/utilisateur/{}", u.id),
    )]));
    p.errors = errors;
    p
}

pub async fn user_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    access: Access,
) -> Response {
    let u = match state.live.store().user(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let snap = state.live.snapshot();
    view::render(&user_page(
        &access,
        &snap,
        &u,
        u.role.as_str(),
        u.active,
        &u.services,
        u.revision,
        vec![],
        None,
    ))
}

pub async fn user_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { access, form }: Posted<Vec<(String, String)>>,
) -> Response {
    let Ok(author) = access.author() else {
        return not_found();
    };
    let store = state.live.store();
    let u = match store.user(id).await {
        Ok(Some(u)) => u,
        Ok(None) => return not_found(),
        Err(e) => return unexpected(e),
    };
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let role_s = get("role");
    let active = get("active") != "0";
    let services = services_of_form(&form);
    let rev = get("revision").parse().unwrap_or(u.revision);
    let snap = state.live.snapshot();
    let role = Role::parse(&role_s);
    let mut errors = check_scope(&snap, role, &services);
    if u.id == author.id && (role != Some(Role::Admin) || !active) {
        errors.push((
            "role".into(),
            "Vous ne pouvez pas retirer vos propres droits d'administrateur.".into(),
        ));
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return with_status(
            view::render(&user_page(
                &access, &snap, &u, &role_s, active, &services, rev, errors, None,
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let mut services = if role == Role::Contributor {
        services
    } else {
        vec![]
    };
    services.sort();
    services.dedup();
    let fields = crate::store::UserFields {
        email: u.email.clone(),
        role,
        active,
        services,
    };
    match store
        .save(
            &author,
            Entity::User,
            Some(&id.to_string()),
            Some(rev),
            Some(Record::User(fields)),
        )
        .await
    {
        Ok(_) => see_other("/admin/utilisateurs"),
        Err(e) => with_status(
            view::render(&user_page(
                &access,
                &snap,
                &u,
                &role_s,
                active,
                &[],
                rev,
                vec![],
                Some(write_error_notice(&e)),
            )),
            write_error_status(&e),
        ),
    }
}
