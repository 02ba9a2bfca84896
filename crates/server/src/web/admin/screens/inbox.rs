//! The requests inbox: the list of a service's requests (tabs, filters,
//! figures), one request with its thread and the forms that work it, the
//! labels of a service, and attachment downloads. Every action is an event
//! of the request's thread, written with the mails it sends in one
//! transaction ([`crate::store::Requests`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use locadocs_core::Snapshot;
use locadocs_core::locate::When;
use locadocs_core::request::{Status, clean_text};
use locadocs_core::snapshot::Holder;
use serde::Deserialize;

use super::{Errors, err_of};
use crate::requests::mails::{self, MailContext, Names, commune_name};
use crate::store::{
    Agent, EventDraft, EventKind, InboxQuery, StoreError, StoredRequest, Tab, time_text,
};
use crate::web::AppState;
use crate::web::admin::error::{AdminError, Result};
use crate::web::admin::policy::Act;
use crate::web::admin::view::{
    self, Block, Button, Cell, Field, FormView, Notice, Page, Table, ThreadItem,
};
use crate::web::admin::{SignedForm, SignedIn, see_other};

const PER_PAGE: i64 = 25;
/// Months of figures shown per service.
const FIGURE_MONTHS: usize = 6;
/// Figures are shown for at most this many services at once.
const FIGURE_SERVICES: usize = 5;
const MAX_MESSAGE: usize = 20_000;

/// The services whose requests this account handles, as (id, name).
fn my_services(me: &SignedIn, snap: &Snapshot) -> Vec<(String, String)> {
    snap.services()
        .iter()
        .filter(|s| me.may(Act::HandleRequests(s.id.as_str())))
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect()
}

fn service_name(snap: &Snapshot, id: &str) -> String {
    snap.service(id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

fn doc_label(snap: &Snapshot, slug: &str) -> String {
    snap.document_type(slug)
        .map(|d| d.label.clone())
        .unwrap_or_else(|| slug.to_owned())
}

/// A stored time (`2026-03-01T10:00:00Z`…) as a French day and hour, in
/// Paris time.
fn when_text(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%d/%m/%Y à %H:%M")
            .to_string(),
        Err(_) => t.get(..10).unwrap_or(t).to_owned(),
    }
}

fn years_text(req: &StoredRequest) -> String {
    match (req.year_from, req.year_to) {
        (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
        (Some(a), _) | (None, Some(a)) => a.to_string(),
        (None, None) => String::new(),
    }
}

/// The query string of an inbox address, without empty values.
fn query_string(pairs: &[(&str, String)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    q.finish()
}

/// What the inbox's GET form sends.
#[derive(Debug, Default, Deserialize)]
pub struct InboxParams {
    #[serde(default)]
    onglet: String,
    #[serde(default)]
    service: String,
    #[serde(default, rename = "type")]
    doc: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    etiquette: String,
    #[serde(default)]
    statut: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    enregistre: Option<String>,
}

impl InboxParams {
    fn pairs(&self, tab: &str, page: i64) -> Vec<(&'static str, String)> {
        vec![
            ("onglet", tab.to_owned()),
            ("service", self.service.clone()),
            ("type", self.doc.clone()),
            ("commune", self.commune.clone()),
            ("etiquette", self.etiquette.clone()),
            ("statut", self.statut.clone()),
            ("age", self.age.clone()),
            ("q", self.q.clone()),
            (
                "page",
                if page > 1 {
                    page.to_string()
                } else {
                    String::new()
                },
            ),
        ]
    }

    fn href(&self, tab: &str, page: i64) -> String {
        let q = query_string(&self.pairs(tab, page));
        if q.is_empty() {
            "/admin/demandes".into()
        } else {
            format!("/admin/demandes?{q}")
        }
    }
}

fn notify_label(n: &str) -> &'static str {
    match n {
        "digest" => "un résumé par jour",
        "none" => "jamais",
        _ => "à chaque demande",
    }
}

fn hours_text(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h < 48.0 => format!("{h:.0} h"),
        Some(h) => format!("{:.1} j", h / 24.0),
    }
}

pub async fn inbox(
    State(state): State<AppState>,
    Query(q): Query<InboxParams>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let store = state.live.store();
    let mine = my_services(&me, &snap);
    let everything = mine.len() == snap.services().len();
    // The service chosen, when it is one of the account's.
    let chosen = mine
        .iter()
        .find(|(id, _)| *id == q.service)
        .map(|(id, _)| id.clone());
    let services: Option<Vec<String>> = match &chosen {
        Some(id) => Some(vec![id.clone()]),
        None if everything => None,
        None => Some(mine.iter().map(|(id, _)| id.clone()).collect()),
    };
    let tab = Tab::parse(&q.onglet).unwrap_or(Tab::ToDo);
    let page_no = q.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let mut errors: Errors = vec![];
    let age = q.age.trim();
    let created_before = if age.is_empty() {
        None
    } else {
        match age.parse::<i64>() {
            Ok(n) if (0..=36_500).contains(&n) => {
                Some(time_text(chrono::Utc::now() - chrono::Duration::days(n)))
            }
            _ => {
                errors.push((
                    "age".into(),
                    "L'ancienneté est un nombre de jours (par exemple 15).".into(),
                ));
                None
            }
        }
    };
    let commune = match clean_text(&q.commune) {
        None => None,
        Some(text) => match super::commune_from_words(&snap, &text) {
            Ok(c) => Some(c.to_string()),
            Err(message) => {
                errors.push(("commune".into(), message));
                None
            }
        },
    };
    let status = Status::parse(&q.statut);
    let label = q.etiquette.parse::<i64>().ok();
    let query = InboxQuery {
        services: services.clone(),
        tab,
        document_type: (!q.doc.is_empty()).then(|| q.doc.clone()),
        commune,
        label,
        status,
        created_before,
        search: clean_text(&q.q),
        // The store counts pages from 0.
        page: page_no - 1,
        per_page: PER_PAGE,
    };
    let now = time_text(chrono::Utc::now());
    let found = store.inbox(&query, me.user.id, &now).await?;

    let mut p = view::page(&me.access, "Demandes");
    if q.enregistre.is_some() {
        p.notice = Some(Notice::success(
            "Préférence enregistrée",
            "Votre choix de notification est enregistré.",
        ));
    }
    p.blocks.push(Block::Tabs(
        Tab::ALL
            .iter()
            .map(|t| view::Tab {
                label: format!("{} ({})", t.label(), found.counts.of(*t)),
                href: q.href(t.as_str(), 1),
                current: *t == tab,
            })
            .collect(),
    ));

    // Filters: a plain GET form.
    let e = |n: &str| err_of(&errors, n);
    let mut fields = vec![];
    if mine.len() > 1 {
        let mut opts = vec![(String::new(), "Tous mes services".to_owned())];
        opts.extend(mine.iter().cloned());
        fields.push(Field::select(
            "service",
            "Service",
            opts,
            chosen.as_deref().unwrap_or(""),
        ));
    }
    let mut docs = vec![(String::new(), "Tous".to_owned())];
    docs.extend(
        snap.document_types()
            .iter()
            .map(|d| (d.slug.to_string(), d.label.clone())),
    );
    fields.push(Field::select("type", "Type de document", docs, &q.doc));
    fields.push(
        Field::text("commune", "Commune", &q.commune)
            .hint("Son nom (Rennes) ou son code INSEE (35238).")
            .suggest(view::Suggest::Communes)
            .error(e("commune")),
    );
    let label_service = chosen
        .clone()
        .or_else(|| (mine.len() == 1).then(|| mine[0].0.clone()));
    if let Some(svc) = &label_service {
        let labels = store.labels(svc).await?;
        if !labels.is_empty() {
            let mut opts = vec![(String::new(), "Toutes".to_owned())];
            opts.extend(labels.iter().map(|l| (l.id.to_string(), l.name.clone())));
            fields.push(Field::select("etiquette", "Étiquette", opts, &q.etiquette));
        }
    }
    let mut statuses = vec![(String::new(), "Tous".to_owned())];
    statuses.extend(
        Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), s.label().to_owned())),
    );
    fields.push(Field::select("statut", "Statut", statuses, &q.statut));
    fields.push(
        Field::text("age", "Reçues il y a plus de N jours", &q.age)
            .hint("Un nombre de jours, par exemple 15")
            .error(e("age")),
    );
    fields.push(
        Field::text("q", "Rechercher", &q.q)
            .hint("Référence, nom, adresse électronique ou texte de la demande"),
    );
    p.blocks.push(Block::Form(FormView {
        action: "/admin/demandes".into(),
        csrf: String::new(),
        hidden: vec![("onglet".into(), tab.as_str().into())],
        fields,
        buttons: vec![Button::primary("Filtrer")],
    }));

    // The list.
    let several = services.as_ref().is_none_or(|s| s.len() > 1);
    let mut head = vec![
        "Référence".to_owned(),
        "Nouveau".to_owned(),
        "Type de document".to_owned(),
        "Commune".to_owned(),
        "Demandeur".to_owned(),
        "Statut".to_owned(),
        "Reçue le".to_owned(),
    ];
    if several {
        head.push("Service".into());
    }
    let rows = found
        .items
        .iter()
        .map(|i| {
            let mut row = vec![
                Cell::link(&i.reference, format!("/admin/demandes/{}", i.id)),
                if i.unread {
                    Cell::warning("Nouveau")
                } else {
                    Cell::text("")
                },
                Cell::text(doc_label(&snap, &i.document_type)),
                Cell::text(
                    i.commune
                        .as_deref()
                        .map(|c| commune_name(&snap, c))
                        .unwrap_or_default(),
                ),
                Cell::text(&i.name),
                Cell::text(i.status.label()),
                Cell::text(when_text(&i.created_at)),
            ];
            if several {
                row.push(Cell::text(service_name(&snap, &i.service)));
            }
            row
        })
        .collect::<Vec<_>>();
    if rows.is_empty() {
        p.blocks
            .push(Block::P("Aucune demande dans cet onglet.".into()));
    } else {
        p.blocks.push(Block::Table(Table {
            caption: format!("{} : {} demande(s)", tab.label(), found.total),
            head,
            rows,
        }));
    }
    let pages = ((found.total + PER_PAGE - 1) / PER_PAGE).max(1);
    if pages > 1 {
        p.blocks
            .push(Block::P(format!("Page {page_no} sur {pages}")));
        let mut links = vec![];
        if page_no > 1 {
            links.push((
                "Page précédente".to_owned(),
                q.href(tab.as_str(), page_no - 1),
            ));
        }
        if page_no < pages {
            links.push((
                "Page suivante".to_owned(),
                q.href(tab.as_str(), page_no + 1),
            ));
        }
        p.blocks.push(Block::Links(links));
    }

    // Labels.
    p.blocks.push(Block::Links(vec![(
        "Gérer les étiquettes".into(),
        match &label_service {
            Some(s) => format!("/admin/demandes/etiquettes?service={s}"),
            None => "/admin/demandes/etiquettes".into(),
        },
    )]));

    // Figures, per service shown.
    let shown: Vec<(String, String)> = match &chosen {
        Some(id) => mine.iter().filter(|(s, _)| s == id).cloned().collect(),
        None => mine.clone(),
    };
    p.blocks.push(Block::H2("Chiffres du service".into()));
    if shown.len() > FIGURE_SERVICES {
        p.blocks.push(Block::P(
            "Choisissez un service dans les filtres pour voir ses chiffres.".into(),
        ));
    } else {
        for (id, name) in &shown {
            let figures = store.figures(id, FIGURE_MONTHS).await?;
            p.blocks.push(Block::Table(Table {
                caption: format!("{name} : demandes par mois"),
                head: vec![
                    "Mois".into(),
                    "Reçues".into(),
                    "Redirigées vers ce service".into(),
                    "Redirigées ailleurs".into(),
                    "Non détenu ici".into(),
                    "Première réponse (médiane)".into(),
                    "Première réponse (9 sur 10 en moins de)".into(),
                    "Clôture (médiane)".into(),
                    "Clôture (9 sur 10 en moins de)".into(),
                ],
                rows: figures
                    .iter()
                    .map(|f| {
                        vec![
                            Cell::text(&f.month),
                            Cell::text(f.received.to_string()),
                            Cell::text(f.rerouted_in.to_string()),
                            Cell::text(f.rerouted_out.to_string()),
                            Cell::text(f.not_held.to_string()),
                            Cell::text(hours_text(f.first_answer_median)),
                            Cell::text(hours_text(f.first_answer_p90)),
                            Cell::text(hours_text(f.close_median)),
                            Cell::text(hours_text(f.close_p90)),
                        ]
                    })
                    .collect(),
            }));
        }
    }

    // How this account hears of new requests.
    p.blocks.push(Block::H2("Notifications".into()));
    p.blocks.push(Block::Form(FormView {
        action: "/admin/demandes/notifications".into(),
        csrf: me.access.csrf.clone(),
        hidden: vec![],
        fields: vec![Field::select(
            "notify",
            "Me prévenir",
            ["each", "digest", "none"]
                .iter()
                .map(|n| (n.to_string(), notify_label(n).to_owned()))
                .collect(),
            &me.user.request_notify,
        )],
        buttons: vec![Button::primary("Enregistrer")],
    }));
    p.errors = errors;
    Ok(view::render(&p))
}

#[derive(Debug, Deserialize)]
pub struct NotifyForm {
    #[serde(default)]
    notify: String,
}

pub async fn inbox_notify(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<NotifyForm>,
) -> Result {
    if !matches!(form.notify.as_str(), "each" | "digest" | "none") {
        return Err(AdminError::BadRequest(
            "Choisissez une fréquence de notification dans la liste.".into(),
        ));
    }
    state
        .live
        .store()
        .set_request_notify(me.user.id, &form.notify)
        .await?;
    Ok(see_other("/admin/demandes?enregistre=1"))
}

// ---- Labels ----

#[derive(Debug, Default, Deserialize)]
pub struct LabelsQuery {
    #[serde(default)]
    service: String,
}

fn labels_service(me: &SignedIn, snap: &Snapshot, asked: &str) -> Result<String> {
    if !asked.is_empty() {
        me.ensure(Act::HandleRequests(asked))?;
        snap.service(asked).ok_or(AdminError::NotFound)?;
        return Ok(asked.to_owned());
    }
    my_services(me, snap)
        .into_iter()
        .next()
        .map(|(id, _)| id)
        .ok_or(AdminError::NotFound)
}

async fn labels_view(
    state: &AppState,
    me: &SignedIn,
    service: &str,
    name: &str,
    errors: Errors,
) -> Result<Page> {
    let snap = state.live.snapshot();
    let labels = state.live.store().labels(service).await?;
    let mut p = view::page(
        &me.access,
        &format!("Étiquettes – {}", service_name(&snap, service)),
    );
    let mine = my_services(me, &snap);
    if mine.len() > 1 {
        p.blocks.push(Block::Form(FormView {
            action: "/admin/demandes/etiquettes".into(),
            csrf: String::new(),
            hidden: vec![],
            fields: vec![Field::select("service", "Service", mine, service)],
            buttons: vec![Button::primary("Afficher")],
        }));
    }
    if labels.is_empty() {
        p.blocks
            .push(Block::P("Ce service n'a pas encore d'étiquette.".into()));
    }
    for l in &labels {
        p.blocks.push(Block::Form(FormView {
            action: "/admin/demandes/etiquettes".into(),
            csrf: me.access.csrf.clone(),
            hidden: vec![("service".into(), service.to_owned())],
            fields: vec![],
            buttons: vec![Button::named(
                "supprimer",
                &l.id.to_string(),
                &format!("Supprimer l'étiquette « {} »", l.name),
                true,
            )],
        }));
    }
    p.blocks.push(Block::H2("Nouvelle étiquette".into()));
    p.blocks.push(Block::Form(FormView {
        action: "/admin/demandes/etiquettes".into(),
        csrf: me.access.csrf.clone(),
        hidden: vec![("service".into(), service.to_owned())],
        fields: vec![
            Field::text("name", "Nom de l'étiquette", name).error(err_of(&errors, "name")),
        ],
        buttons: vec![Button::primary("Créer l'étiquette")],
    }));
    p.blocks.push(Block::Links(vec![(
        "Retour aux demandes".into(),
        format!("/admin/demandes?service={service}"),
    )]));
    p.errors = errors;
    Ok(p)
}

pub async fn labels_page(
    State(state): State<AppState>,
    Query(q): Query<LabelsQuery>,
    me: SignedIn,
) -> Result {
    let snap = state.live.snapshot();
    let service = labels_service(&me, &snap, &q.service)?;
    Ok(view::render(
        &labels_view(&state, &me, &service, "", vec![]).await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct LabelsForm {
    #[serde(default)]
    service: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    supprimer: Option<String>,
}

pub async fn labels_save(
    State(state): State<AppState>,
    SignedForm { me, form }: SignedForm<LabelsForm>,
) -> Result {
    let snap = state.live.snapshot();
    let service = labels_service(&me, &snap, form.service.trim())?;
    let store = state.live.store();
    let back = format!("/admin/demandes/etiquettes?service={service}");
    if let Some(id) = &form.supprimer {
        let id: i64 = id.parse().map_err(|_| AdminError::NotFound)?;
        if !store.delete_label(&service, id).await? {
            return Err(AdminError::NotFound);
        }
        return Ok(see_other(&back));
    }
    let name = form.name.trim();
    let mut errors: Errors = vec![];
    if name.is_empty() {
        errors.push(("name".into(), "Donnez un nom à l'étiquette.".into()));
    } else if name.chars().count() > 60 {
        errors.push(("name".into(), "Au plus 60 caractères.".into()));
    } else if store.labels(&service).await?.iter().any(|l| l.name == name) {
        errors.push(("name".into(), "Ce service a déjà cette étiquette.".into()));
    }
    if !errors.is_empty() {
        return Err(AdminError::invalid(
            labels_view(&state, &me, &service, name, errors).await?,
        ));
    }
    store.create_label(&service, name).await?;
    Ok(see_other(&back))
}

// ---- One request ----

async fn load(state: &AppState, id: i64) -> Result<StoredRequest> {
    state
        .live
        .store()
        .request(id)
        .await?
        .ok_or(AdminError::NotFound)
}

/// Refuses a form read before the request changed (another agent acted).
fn fresh(req: &StoredRequest, revision: Option<i64>) -> Result<()> {
    match revision {
        Some(r) if r == req.last_event_id => Ok(()),
        _ => Err(changed()),
    }
}

fn changed() -> AdminError {
    AdminError::Refused {
        status: StatusCode::CONFLICT,
        title: "Demande modifiée entre-temps",
        text: "Quelqu'un a agi sur cette demande depuis que vous l'avez ouverte : rouvrez-la pour voir ce qui a changé, puis recommencez.".into(),
    }
}

/// The store's refusal of a stale event, as the same page.
fn conflict(e: StoreError) -> AdminError {
    match e {
        StoreError::Conflict { .. } => changed(),
        other => other.into(),
    }
}

fn event_title(kind: EventKind, data: &serde_json::Value, snap: &Snapshot) -> String {
    let svc = |k: &str| {
        data.get(k)
            .and_then(|v| v.as_str())
            .map(|s| service_name(snap, s))
            .unwrap_or_default()
    };
    match kind {
        EventKind::Created => "Demande reçue".into(),
        EventKind::MessageIn => "Message du demandeur".into(),
        EventKind::MessageOut => "Message au demandeur".into(),
        EventKind::Note => "Note privée".into(),
        EventKind::Status => match data
            .get("status")
            .and_then(|s| s.as_str())
            .and_then(Status::parse)
        {
            Some(s) => format!("Statut : {}", s.label()),
            None => "Changement de statut".into(),
        },
        EventKind::Claim => "Prise en charge".into(),
        EventKind::Label => "Étiquettes modifiées".into(),
        EventKind::Reroute => format!("Redirigée de {} vers {}", svc("from"), svc("to")),
        EventKind::LinkSent => "Lien personnel envoyé à nouveau".into(),
    }
}

/// The holder the locate engine names for the request, when it is another
/// service than the one that has it.
fn proposed_holder(state: &AppState, snap: &Snapshot, req: &StoredRequest) -> Option<String> {
    let commune = req.commune.as_deref()?;
    let when = req.year_from.map(When::Year).unwrap_or(When::Unknown);
    let answer = snap
        .locate(&req.document_type, commune, when, state.clock.today())
        .ok()?;
    answer.matches.iter().find_map(|m| match m.holder {
        Holder::Service(s) if s.id.as_str() != req.service => Some(s.id.to_string()),
        _ => None,
    })
}

/// What a request page shows besides the request: errors, a notice, and
/// the service a refused reroute named (to offer its contact instead).
#[derive(Default)]
struct Extra {
    errors: Errors,
    notice: Option<Notice>,
    refused_to: Option<String>,
    /// Values sent back: message, note, reason of a status, reason of a reroute.
    message: String,
    note: String,
    reason: String,
    reroute_reason: String,
}

async fn request_view(
    state: &AppState,
    me: &SignedIn,
    req: &StoredRequest,
    extra: Extra,
) -> Result<Page> {
    let snap = state.live.snapshot();
    let store = state.live.store();
    let events = store.events(req.id).await?;
    let files = store.attachments(req.id).await?;
    let labels = store.labels(&req.service).await?;
    let on = store.labels_of(req.id).await?;
    let agents = store.agents_of(&req.service).await?;
    let agent_email = |id: i64| {
        agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.email.clone())
            .unwrap_or_else(|| "un ancien agent".into())
    };
    let mut p = view::page(&me.access, &format!("Demande {}", req.reference));
    p.notice = extra.notice;
    let e = |n: &str| err_of(&extra.errors, n);

    let mut facts = vec![
        ("Référence".to_owned(), req.reference.clone()),
        ("Service".to_owned(), service_name(&snap, &req.service)),
        (
            "Type de document".to_owned(),
            doc_label(&snap, &req.document_type),
        ),
        (
            "Commune".to_owned(),
            req.commune
                .as_deref()
                .map(|c| commune_name(&snap, c))
                .unwrap_or_default(),
        ),
        ("Années".to_owned(), years_text(req)),
    ];
    let form = snap.request_fields(&req.document_type);
    for (key, value) in &req.fields {
        let label = form
            .iter()
            .find(|f| &f.key == key)
            .map(|f| f.label.clone())
            .unwrap_or_else(|| key.clone());
        facts.push((label, value.clone()));
    }
    facts.extend([
        ("Nom du demandeur".to_owned(), req.name.clone()),
        ("Adresse électronique".to_owned(), req.email.clone()),
        (
            "Téléphone".to_owned(),
            req.phone.clone().unwrap_or_default(),
        ),
        ("Reçue le".to_owned(), when_text(&req.created_at)),
        (
            "Statut".to_owned(),
            match &req.status_reason {
                Some(r) => format!("{} ({r})", req.status.label()),
                None => req.status.label().to_owned(),
            },
        ),
        (
            "Suivie par".to_owned(),
            match req.assignee {
                Some(id) if id == me.user.id => "vous".to_owned(),
                Some(id) => agent_email(id),
                None => "personne".to_owned(),
            },
        ),
        (
            "Étiquettes".to_owned(),
            on.iter()
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Langue".to_owned(),
            if req.english() {
                "anglais"
            } else {
                "français"
            }
            .to_owned(),
        ),
    ]);
    p.blocks.push(Block::Dl(facts));
    p.blocks.push(Block::H2("Texte de la demande".into()));
    p.blocks.push(Block::Text(req.body.clone()));
    if !files.is_empty() {
        p.blocks.push(Block::H2("Pièces jointes".into()));
        p.blocks.push(Block::Links(
            files
                .iter()
                .map(|f| {
                    (
                        format!("{} ({} Ko)", f.file_name, (f.size + 1023) / 1024),
                        format!("/admin/demandes/{}/pieces/{}", req.id, f.id),
                    )
                })
                .collect(),
        ));
    }
    p.blocks.push(Block::H2("Fil de la demande".into()));
    p.blocks.push(Block::Thread(
        events
            .iter()
            .map(|ev| ThreadItem {
                title: event_title(ev.kind, &ev.data, &snap),
                meta: format!("{}, le {}", ev.author, when_text(&ev.at)),
                body: ev.body.clone(),
                private: ev.kind == EventKind::Note,
            })
            .collect(),
    ));

    let rev = vec![("revision".to_owned(), req.last_event_id.to_string())];
    let action = |a: &str| format!("/admin/demandes/{}/{a}", req.id);
    let csrf = me.access.csrf.clone();

    if req.assignee != Some(me.user.id) {
        p.blocks.push(Block::Form(FormView {
            action: action("prendre"),
            csrf: csrf.clone(),
            hidden: rev.clone(),
            fields: vec![],
            buttons: vec![Button::primary("Je m'en occupe")],
        }));
    }

    p.blocks.push(Block::H2("Écrire au demandeur".into()));
    p.blocks.push(Block::Form(FormView {
        action: action("message"),
        csrf: csrf.clone(),
        hidden: rev.clone(),
        fields: vec![
            Field::textarea("message", "Message", &extra.message)
                .hint("Envoyé par courriel au demandeur, et visible sur sa page de suivi.")
                .error(e("message")),
        ],
        buttons: vec![Button::primary("Envoyer au demandeur")],
    }));

    p.blocks.push(Block::H2("Note privée".into()));
    p.blocks.push(Block::Form(FormView {
        action: action("note"),
        csrf: csrf.clone(),
        hidden: rev.clone(),
        fields: vec![
            Field::textarea("note", "Note", &extra.note)
                .hint("Visible des seuls agents du service ; jamais envoyée au demandeur.")
                .error(e("note")),
        ],
        buttons: vec![Button::named("ajouter", "1", "Ajouter la note", true)],
    }));

    p.blocks.push(Block::H2("Statut".into()));
    p.blocks.push(Block::Form(FormView {
        action: action("statut"),
        csrf: csrf.clone(),
        hidden: rev.clone(),
        fields: vec![
            Field::select(
                "status",
                "Nouveau statut",
                Status::ALL
                    .iter()
                    .filter(|s| s.settable())
                    .map(|s| (s.as_str().to_owned(), s.label().to_owned()))
                    .collect(),
                req.status.as_str(),
            )
            .error(e("status")),
            Field::textarea("reason", "Motif", &extra.reason)
                .hint("Obligatoire pour clore la demande (répondue, non détenu ici, sans suite) ; il est écrit au demandeur.")
                .error(e("reason")),
        ],
        buttons: vec![Button::primary("Changer le statut")],
    }));

    if !labels.is_empty() {
        p.blocks.push(Block::H2("Étiquettes".into()));
        p.blocks.push(Block::Form(FormView {
            action: action("etiquettes"),
            csrf: csrf.clone(),
            hidden: rev.clone(),
            fields: vec![Field::checkboxes(
                "labels",
                "Étiquettes de la demande",
                labels
                    .iter()
                    .map(|l| {
                        (
                            l.id.to_string(),
                            l.name.clone(),
                            on.iter().any(|o| o.id == l.id),
                        )
                    })
                    .collect(),
            )],
            buttons: vec![Button::named(
                "enregistrer",
                "1",
                "Enregistrer les étiquettes",
                true,
            )],
        }));
    }
    p.blocks.push(Block::Links(vec![(
        "Gérer les étiquettes du service".into(),
        format!("/admin/demandes/etiquettes?service={}", req.service),
    )]));

    // Reroute, with the locate engine's holder first.
    p.blocks
        .push(Block::H2("Rediriger vers un autre service".into()));
    if let Some(to) = &extra.refused_to {
        let contact = snap.service(to).map(contact_text).unwrap_or_default();
        p.blocks.push(Block::P(format!(
            "À la place, vous pouvez envoyer au demandeur les coordonnées de {} et clore la demande comme « non détenu ici » :",
            service_name(&snap, to)
        )));
        p.blocks.push(Block::Text(contact));
        let mut hidden = rev.clone();
        hidden.push(("to".into(), to.clone()));
        p.blocks.push(Block::Form(FormView {
            action: action("coordonnees"),
            csrf: csrf.clone(),
            hidden,
            fields: vec![],
            buttons: vec![Button::primary(
                "Envoyer ces coordonnées au demandeur et clore",
            )],
        }));
    }
    let proposed = proposed_holder(state, &snap, req);
    let mut options: Vec<(String, String)> = vec![];
    if let Some(id) = &proposed {
        options.push((
            id.clone(),
            format!("{} (proposé par Locadocs)", service_name(&snap, id)),
        ));
    } else {
        options.push((String::new(), "Choisissez un service".into()));
    }
    let mut others: Vec<(String, String)> = snap
        .services()
        .iter()
        .filter(|s| s.id.as_str() != req.service && Some(s.id.as_str()) != proposed.as_deref())
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    others.sort_by(|a, b| a.1.cmp(&b.1));
    options.extend(others);
    p.blocks.push(Block::Form(FormView {
        action: action("rediriger"),
        csrf,
        hidden: rev,
        fields: vec![
            Field::select(
                "to",
                "Service qui conserve le document",
                options,
                extra
                    .refused_to
                    .as_deref()
                    .or(proposed.as_deref())
                    .unwrap_or(""),
            )
            .hint("Le service proposé par Locadocs est celui que ses règles désignent pour ce type de document, cette commune et cette année.")
            .error(e("to")),
            Field {
                // The status form has a `reason` too: ids stay unique.
                id: "f-reroute_reason".into(),
                ..Field::textarea("reason", "Motif (écrit au demandeur)", &extra.reroute_reason)
                    .error(e("reroute_reason"))
            },
        ],
        buttons: vec![Button::named("rediriger", "1", "Rediriger la demande", true)],
    }));
    p.blocks.push(Block::Links(vec![(
        "Retour aux demandes".into(),
        "/admin/demandes".into(),
    )]));
    p.errors = extra.errors;
    Ok(p)
}

fn contact_text(s: &locadocs_core::Service) -> String {
    let mut lines = vec![s.name.clone()];
    let address = [
        s.address.clone(),
        match (&s.postal_code, &s.city) {
            (Some(p), Some(c)) => Some(format!("{p} {c}")),
            (None, Some(c)) => Some(c.clone()),
            (Some(p), None) => Some(p.clone()),
            (None, None) => None,
        },
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    if !address.is_empty() {
        lines.push(format!("Adresse : {address}"));
    }
    if let Some(e) = &s.email {
        lines.push(format!("Courriel : {e}"));
    }
    if let Some(p) = &s.phone {
        lines.push(format!("Téléphone : {p}"));
    }
    if let Some(w) = &s.website {
        lines.push(format!("Site internet : {w}"));
    }
    if let Some(u) = &s.request_url {
        lines.push(format!("Formulaire de demande : {u}"));
    }
    lines.join("\n")
}

pub async fn request_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    me: SignedIn,
) -> Result {
    let req = load(&state, id).await?;
    let page = request_view(&state, &me, &req, Extra::default()).await?;
    state
        .live
        .store()
        .mark_read(req.id, me.user.id, req.last_event_id)
        .await?;
    Ok(view::render(&page))
}

fn back(req: &StoredRequest) -> Response {
    see_other(&format!("/admin/demandes/{}", req.id))
}

fn draft(me: &SignedIn, kind: EventKind) -> EventDraft {
    let mut e = EventDraft::new(kind, me.user.email.clone());
    e.user_id = Some(me.user.id);
    e
}

async fn mail_context<'a>(state: &'a AppState, req: &StoredRequest) -> Result<MailContext<'a>> {
    Ok(MailContext {
        public_url: &state.admin.public_url,
        reply: &state.admin.requests.reply,
        domain: state.admin.mailer.sender_domain(),
        parent: state.live.store().last_message_id(req.id).await?,
    })
}

#[derive(Debug, Deserialize)]
pub struct RevisionOnly {
    #[serde(default)]
    revision: Option<i64>,
}

pub async fn request_claim(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RevisionOnly>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let mut e = draft(&me, EventKind::Claim);
    e.assignee = Some(Some(me.user.id));
    if req.status == Status::New {
        e.status = Some((Status::InProgress, None));
    }
    state
        .live
        .store()
        .add_event(req.id, form.revision, &e, &[], &[])
        .await
        .map_err(conflict)?;
    Ok(back(&req))
}

#[derive(Debug, Deserialize)]
pub struct TextForm {
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    note: String,
}

pub async fn request_message(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<TextForm>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let text = clean_text(&form.message);
    let error = match &text {
        None => Some("Écrivez le message à envoyer."),
        Some(t) if t.chars().count() > MAX_MESSAGE => Some("Ce message est trop long."),
        _ => None,
    };
    if let Some(why) = error {
        let extra = Extra {
            errors: vec![("message".into(), why.into())],
            message: form.message.clone(),
            ..Extra::default()
        };
        return Err(AdminError::invalid(
            request_view(&state, &me, &req, extra).await?,
        ));
    }
    let text = text.unwrap_or_default();
    let snap = state.live.snapshot();
    let ctx = mail_context(&state, &req).await?;
    let mail = mails::to_person(&ctx, &req, &Names::of(&snap, &req), Some(&text), None);
    let mut e = draft(&me, EventKind::MessageOut);
    e.body = Some(text);
    e.answers = true;
    // Answered: no longer waiting for someone to take it up.
    if req.status == Status::New {
        e.status = Some((Status::InProgress, None));
    }
    state
        .live
        .store()
        .add_event(req.id, form.revision, &e, &[], &[mail])
        .await
        .map_err(conflict)?;
    crate::web::stats::first_answer(&state, &req);
    Ok(back(&req))
}

pub async fn request_note(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<TextForm>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let Some(text) = clean_text(&form.note).filter(|t| t.chars().count() <= MAX_MESSAGE) else {
        let extra = Extra {
            errors: vec![(
                "note".into(),
                "Écrivez la note (au plus 20 000 caractères).".into(),
            )],
            note: form.note.clone(),
            ..Extra::default()
        };
        return Err(AdminError::invalid(
            request_view(&state, &me, &req, extra).await?,
        ));
    };
    let mut e = draft(&me, EventKind::Note);
    e.body = Some(text);
    state
        .live
        .store()
        .add_event(req.id, form.revision, &e, &[], &[])
        .await
        .map_err(conflict)?;
    Ok(back(&req))
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
}

pub async fn request_status(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<StatusForm>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let status = Status::parse(&form.status).filter(|s| s.settable());
    let reason = clean_text(&form.reason);
    let mut errors: Errors = vec![];
    match status {
        None => errors.push((
            "status".into(),
            "Choisissez un statut dans la liste.".into(),
        )),
        Some(s) if s.is_final() && reason.is_none() => errors.push((
            "reason".into(),
            "Indiquez le motif : il est écrit au demandeur avec la clôture de sa demande.".into(),
        )),
        Some(s) if s == req.status => {
            errors.push(("status".into(), "La demande a déjà ce statut.".into()))
        }
        _ => {}
    }
    if reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_MESSAGE)
    {
        errors.push(("reason".into(), "Ce motif est trop long.".into()));
    }
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        let extra = Extra {
            errors,
            reason: form.reason.clone(),
            ..Extra::default()
        };
        return Err(AdminError::invalid(
            request_view(&state, &me, &req, extra).await?,
        ));
    };
    let told = status.told_to_person(req.english());
    let mut mail_list = vec![];
    if let Some(line) = told {
        let snap = state.live.snapshot();
        let ctx = mail_context(&state, &req).await?;
        mail_list.push(mails::to_person(
            &ctx,
            &req,
            &Names::of(&snap, &req),
            reason.as_deref(),
            Some(line),
        ));
    }
    let mut e = draft(&me, EventKind::Status);
    e.body = reason.clone();
    e.data = serde_json::json!({ "status": status.as_str() });
    e.status = Some((status, reason));
    e.answers = told.is_some();
    state
        .live
        .store()
        .add_event(req.id, form.revision, &e, &[], &mail_list)
        .await
        .map_err(conflict)?;
    Ok(back(&req))
}

pub async fn request_labels(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<Vec<(String, String)>>,
) -> Result {
    let req = load(&state, id).await?;
    let revision = form
        .iter()
        .find(|(k, _)| k == "revision")
        .and_then(|(_, v)| v.parse().ok());
    fresh(&req, revision)?;
    let store = state.live.store();
    let known = store.labels(&req.service).await?;
    let chosen: Vec<i64> = form
        .iter()
        .filter(|(k, _)| k == "labels")
        .filter_map(|(_, v)| v.parse().ok())
        .filter(|id| known.iter().any(|l| l.id == *id))
        .collect();
    let mut e = draft(&me, EventKind::Label);
    e.data = serde_json::json!({
        "labels": known
            .iter()
            .filter(|l| chosen.contains(&l.id))
            .map(|l| l.name.clone())
            .collect::<Vec<_>>()
    });
    store.set_labels(req.id, &chosen, &e).await?;
    Ok(back(&req))
}

#[derive(Debug, Deserialize)]
pub struct RerouteForm {
    #[serde(default)]
    revision: Option<i64>,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

/// Why a service cannot receive a request here, if it cannot.
fn cannot_receive(snap: &Snapshot, to: &str, agents: &[Agent]) -> Option<String> {
    let name = service_name(snap, to);
    if !snap.accepts_requests(to) {
        Some(format!(
            "{name} ne reçoit pas les demandes par Locadocs : la demande ne peut pas lui être redirigée."
        ))
    } else if agents.is_empty() {
        Some(format!(
            "{name} n'a aucun agent pour traiter les demandes : la demande ne peut pas lui être redirigée."
        ))
    } else {
        None
    }
}

pub async fn request_reroute(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RerouteForm>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let snap = state.live.snapshot();
    let store = state.live.store();
    let to = form.to.trim().to_owned();
    let reason = clean_text(&form.reason);
    let mut errors: Errors = vec![];
    if snap.service(&to).is_none() {
        errors.push(("to".into(), "Choisissez un service dans la liste.".into()));
    } else if to == req.service {
        errors.push(("to".into(), "La demande est déjà chez ce service.".into()));
    }
    match &reason {
        None => errors.push((
            "reroute_reason".into(),
            "Indiquez le motif : il est écrit au demandeur.".into(),
        )),
        Some(r) if r.chars().count() > MAX_MESSAGE => {
            errors.push(("reroute_reason".into(), "Ce motif est trop long.".into()))
        }
        _ => {}
    }
    let sent_back = |errors: Errors, notice: Option<Notice>, refused_to: Option<String>| Extra {
        errors,
        notice,
        refused_to,
        reroute_reason: form.reason.clone(),
        ..Extra::default()
    };
    if !errors.is_empty() {
        return Err(AdminError::invalid(
            request_view(&state, &me, &req, sent_back(errors, None, None)).await?,
        ));
    }
    let reason = reason.unwrap_or_default();
    let agents = store.agents_of(&to).await?;
    if let Some(why) = cannot_receive(&snap, &to, &agents) {
        let notice = Notice::error("Redirection impossible", &why);
        return Err(AdminError::invalid(
            request_view(&state, &me, &req, sent_back(vec![], Some(notice), Some(to))).await?,
        ));
    }
    let from_name = service_name(&snap, &req.service);
    let to_name = service_name(&snap, &to);
    let ctx = mail_context(&state, &req).await?;
    let mut mail_list = vec![mails::rerouted(&ctx, &req, &from_name, &to_name, &reason)];
    let moved = StoredRequest {
        service: to.clone(),
        ..req.clone()
    };
    let moved_names = Names::of(&snap, &moved);
    for a in mails::told_of_each(&agents) {
        mail_list.push(mails::new_request(
            &ctx,
            &moved,
            &moved_names,
            &a.email,
            Some(&from_name),
        ));
    }
    let mut e = draft(&me, EventKind::Reroute);
    e.body = Some(reason);
    e.data = serde_json::json!({ "to": to, "from": req.service });
    // The store checks nothing else changed meanwhile only for events; the
    // revision was checked above, just before.
    store
        .reroute(req.id, &to, &e, &mail_list)
        .await
        .map_err(conflict)?;
    crate::web::stats::request_event(
        &state,
        crate::store::kind::REQUEST_REROUTED,
        req.guide.as_deref(),
        &format!("{} {to}", req.service),
        &req.document_type,
        "",
    );
    Ok(see_other("/admin/demandes"))
}

/// Sends the person the contact of the service that holds the document,
/// and closes the request as « non détenu ici ».
pub async fn request_contact(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { me, form }: SignedForm<RerouteForm>,
) -> Result {
    let req = load(&state, id).await?;
    fresh(&req, form.revision)?;
    let snap = state.live.snapshot();
    let to = form.to.trim();
    let Some(service) = snap.service(to).filter(|s| s.id.as_str() != req.service) else {
        return Err(AdminError::BadRequest(
            "Ce service est inconnu : rouvrez la demande et recommencez.".into(),
        ));
    };
    let english = req.english();
    let intro = if english {
        "The document you are looking for is held by this service; you can contact it directly:"
    } else {
        "Le document que vous cherchez est conservé par ce service ; vous pouvez le contacter directement :"
    };
    let message = format!("{intro}\n\n{}", contact_text(service));
    let ctx = mail_context(&state, &req).await?;
    let mail = mails::to_person(
        &ctx,
        &req,
        &Names::of(&snap, &req),
        Some(&message),
        Status::NotHeld.told_to_person(english),
    );
    let mut e = draft(&me, EventKind::MessageOut);
    e.body = Some(message);
    e.answers = true;
    e.data = serde_json::json!({ "contact": service.id.as_str() });
    e.status = Some((
        Status::NotHeld,
        Some(format!("Conservé par {}", service.name)),
    ));
    state
        .live
        .store()
        .add_event(req.id, form.revision, &e, &[], &[mail])
        .await
        .map_err(conflict)?;
    crate::web::stats::first_answer(&state, &req);
    Ok(back(&req))
}

pub async fn request_attachment(
    State(state): State<AppState>,
    Path((id, att)): Path<(i64, String)>,
    _me: SignedIn,
) -> Result {
    let att: i64 = att.parse().map_err(|_| AdminError::NotFound)?;
    let files = state.live.store().attachments(id).await?;
    let f = files
        .into_iter()
        .find(|f| f.id == att)
        .ok_or(AdminError::NotFound)?;
    Ok(crate::web::request_pages::attachment_response(&state, &f).await)
}
