//! The person's side of a request: the form (prefilled from the guide's
//! answers, with the document type's own fields), the confirmation, the
//! private page where they follow the request and answer the service, and
//! the page that sends the private link again. No account, no cookie: the
//! private page's address carries a long random token, stored hashed.
//! Everything works without JavaScript and inside the widget.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use locadocs_core::guide::Answers;
use locadocs_core::request::{FieldKind, Status, clean_email, clean_text};
use locadocs_core::{Snapshot, Territory};

use super::AppState;
use super::admin::auth::{random_token, token_hash};
use super::pages::{Display, Layout, PeerIp, framed, message, not_found_page, render};
use super::theme::Lang;
use crate::requests::attachments::{FileRefusal, check_totals};
use crate::requests::mails::{self, MailContext, Names, commune_name};
use crate::requests::{NewSecrets, retention_words};
use crate::store::{EventDraft, EventKind, NewFile, NewRequest, RequestEvent, StoredRequest};

/// Largest request body: the files (checked one by one as they stream in)
/// and the text.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Longest free text.
const MAX_MESSAGE: usize = 10_000;
/// What is read of one text field: more than any field accepts.
const MAX_FIELD_BYTES: usize = 4 * MAX_MESSAGE + 4;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demande/nouvelle", get(form_page).post(submit))
        .route("/demande/envoyee", get(sent_page))
        .route("/demande/suivi/{token}", get(thread_page).post(reply))
        .route("/demande/suivi/{token}/pieces/{id}", get(download))
        .route("/demande/lien", get(link_page).post(send_link))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn tr(lang: Lang, fr: &str, en: &str) -> String {
    match lang {
        Lang::Fr => fr.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// One field of a form, ready to show.
struct FieldView {
    name: String,
    id: String,
    label: String,
    help: Option<String>,
    value: String,
    required: bool,
    /// `text`, `email`, `tel`, `textarea`, `select`, `file`.
    kind: &'static str,
    options: Vec<(String, String, bool)>,
    error: Option<String>,
    max: usize,
    autocomplete: Option<&'static str>,
    described_by: String,
}

impl FieldView {
    fn new(name: &str, label: String, kind: &'static str) -> FieldView {
        FieldView {
            name: name.to_owned(),
            id: format!("champ-{}", name.replace('_', "-")),
            label,
            help: None,
            value: String::new(),
            required: false,
            kind,
            options: Vec::new(),
            error: None,
            max: 300,
            autocomplete: None,
            described_by: String::new(),
        }
    }

    fn finish(mut self, errors: &HashMap<String, String>) -> FieldView {
        self.error = errors.get(&self.name).cloned();
        let mut ids = Vec::new();
        if self.help.is_some() {
            ids.push(format!("{}-aide", self.id));
        }
        if self.error.is_some() {
            ids.push(format!("{}-erreur", self.id));
        }
        self.described_by = ids.join(" ");
        self
    }
}

struct Group {
    legend: String,
    fields: Vec<FieldView>,
}

struct FormView {
    heading: String,
    intro: String,
    errors_title: String,
    errors: Vec<(String, String)>,
    hidden: Vec<(String, String)>,
    groups: Vec<Group>,
    required_mark: String,
    privacy_line: String,
    privacy_link: String,
    submit: String,
    back_href: Option<String>,
    back_label: String,
}

struct SentView {
    heading: String,
    reference_line: String,
    reference: String,
    paragraphs: Vec<String>,
    links: Vec<(String, String)>,
}

struct EventView {
    who: String,
    at: String,
    when: String,
    paragraphs: Vec<String>,
    files: Vec<(String, String, String)>,
    mine: bool,
}

struct ThreadView {
    heading: String,
    facts: Vec<(String, String)>,
    notice: Option<String>,
    thread_title: String,
    events: Vec<EventView>,
    error: Option<String>,
    action: String,
    hidden: Vec<(String, String)>,
    reply_label: String,
    reply_value: String,
    files_label: String,
    files_help: String,
    reply_submit: String,
}

struct LinkView {
    heading: String,
    paragraphs: Vec<String>,
    sent: bool,
    hidden: Vec<(String, String)>,
    reference_label: String,
    email_label: String,
    submit: String,
}

enum RequestBody {
    Form(FormView),
    Sent(SentView),
    Thread(ThreadView),
    Link(LinkView),
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    l: Layout,
    body: RequestBody,
}

framed!(RequestPage);

/// The display parameters carried from page to page (language, widget,
/// theme, colours, font, site).
const CARRIED: [&str; 6] = ["lang", "embed", "theme", "color", "font", "site"];

fn carried(a: &Answers) -> Vec<(String, String)> {
    CARRIED
        .iter()
        .filter_map(|k| {
            a.get(k)
                .map(|v| ((*k).to_owned(), v.chars().take(100).collect()))
        })
        .collect()
}

fn query_of(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn private(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

fn page(d: &Display, title: String, body: RequestBody, status: StatusCode) -> Response {
    let mut resp = render(&RequestPage {
        l: d.layout(title),
        body,
    });
    *resp.status_mut() = status;
    private(resp)
}

/// What the form was sent or prefilled with.
#[derive(Debug, Default, Clone)]
struct Draft {
    document_type: String,
    service: String,
    commune: String,
    year: String,
    guide: String,
    back: String,
    fields: HashMap<String, String>,
    name: String,
    email: String,
    phone: String,
    message: String,
    display: Vec<(String, String)>,
}

impl Draft {
    fn from_query(a: &Answers) -> Draft {
        let get = |k: &str| a.get(k).unwrap_or("").chars().take(300).collect::<String>();
        Draft {
            document_type: get("document"),
            service: get("service"),
            commune: get("commune"),
            year: get("annee"),
            guide: get("guide"),
            back: a.get("retour").unwrap_or("").chars().take(2000).collect(),
            display: carried(a),
            ..Draft::default()
        }
    }
}

/// A commune typed or carried: a code, « Nom (code) », or a name that
/// only one commune has.
fn resolve_commune(snap: &Snapshot, s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // The code alone, in brackets after the name (« Rennes (35238) »), or
    // first (« 35001 (ancienne commune de …) »), as `commune_name` writes it.
    let bracketed = match (s.rfind('('), s.ends_with(')')) {
        (Some(i), true) => Some(s[i + 1..s.len() - 1].trim()),
        _ => None,
    };
    let first = s.split_whitespace().next();
    for code in [bracketed, Some(s), first].into_iter().flatten() {
        if let Ok(Territory::Commune(c)) = Territory::parse(&format!("commune:{code}"))
            && snap.territories().knows(c)
        {
            return Some(code.to_owned());
        }
    }
    let hits = snap.search_communes(s, 5);
    let exact: Vec<_> = hits
        .iter()
        .filter(|c| c.name.eq_ignore_ascii_case(s))
        .collect();
    match exact.as_slice() {
        [one] => Some(one.code.to_string()),
        _ => None,
    }
}

/// `1985` or `1985-1990` (also with an en dash, or « 1985 à 1990 »).
fn parse_years(s: &str) -> Result<(Option<i32>, Option<i32>), ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok((None, None));
    }
    let parts: Vec<&str> = s
        .split(['-', '–', '/'])
        .flat_map(|p| p.split(" à "))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let year = |p: &str| -> Result<i32, ()> {
        p.parse::<i32>()
            .ok()
            .filter(|y| (1500..=2100).contains(y))
            .ok_or(())
    };
    match parts.as_slice() {
        [one] => Ok((Some(year(one)?), None)),
        [a, b] => {
            let (a, b) = (year(a)?, year(b)?);
            if a > b {
                return Err(());
            }
            Ok((Some(a), Some(b)))
        }
        _ => Err(()),
    }
}

fn form_view(
    snap: &Snapshot,
    draft: &Draft,
    errors: &HashMap<String, String>,
    lang: Lang,
    retention_days: u32,
) -> FormView {
    let en = lang == Lang::En;
    let service_name = snap
        .service(&draft.service)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    // What the request is about: shown, changeable.
    let mut doc = FieldView::new(
        "document",
        tr(lang, "Document recherché", "Document you are looking for"),
        "select",
    );
    doc.options = snap
        .document_types()
        .iter()
        .map(|d| {
            (
                d.slug.to_string(),
                d.label.clone(),
                d.slug.as_str() == draft.document_type,
            )
        })
        .collect();
    let mut holder = FieldView::new(
        "service",
        tr(lang, "Service destinataire", "Service the request goes to"),
        "select",
    );
    holder.options = snap
        .services()
        .iter()
        .filter(|s| snap.accepts_requests(s.id.as_str()))
        .map(|s| {
            (
                s.id.to_string(),
                s.name.clone(),
                s.id.as_str() == draft.service,
            )
        })
        .collect();
    holder.help = Some(tr(
        lang,
        "Le service que le guide a trouvé pour votre commune et votre date.",
        "The service the guide found for your commune and date.",
    ));
    let mut commune = FieldView::new("commune", tr(lang, "Commune", "Commune"), "text");
    commune.value =
        if draft.commune.chars().all(|c| c.is_ascii_alphanumeric()) && !draft.commune.is_empty() {
            commune_name(snap, &draft.commune)
        } else {
            draft.commune.clone()
        };
    commune.help = Some(tr(
        lang,
        "Nom ou code INSEE, par exemple « Rennes (35238) ».",
        "Name or INSEE code, e.g. “Rennes (35238)”.",
    ));
    let mut year = FieldView::new(
        "annee",
        tr(lang, "Année ou période", "Year or period"),
        "text",
    );
    year.value = draft.year.clone();
    year.max = 20;
    year.help = Some(tr(
        lang,
        "Par exemple 1985, ou 1985-1990. Laissez vide si vous ne savez pas.",
        "For example 1985, or 1985-1990. Leave empty if you do not know.",
    ));
    let about = Group {
        legend: tr(lang, "Votre demande", "Your request"),
        fields: [doc, holder, commune, year]
            .into_iter()
            .map(|f| f.finish(errors))
            .collect(),
    };
    // The document type's own fields.
    let specific: Vec<FieldView> = snap
        .request_fields(&draft.document_type)
        .iter()
        .map(|f| {
            let mut v = FieldView::new(
                &format!("f_{}", f.key),
                f.label_in(en).to_owned(),
                match f.kind {
                    FieldKind::Textarea => "textarea",
                    FieldKind::Text | FieldKind::Date => "text",
                },
            );
            v.help = f.help_in(en).map(str::to_owned);
            v.required = f.required;
            v.max = f.max_len();
            v.value = draft.fields.get(&f.key).cloned().unwrap_or_default();
            v.finish(errors)
        })
        .collect();
    let mut groups = vec![about];
    if !specific.is_empty() {
        groups.push(Group {
            legend: tr(lang, "Pour retrouver le document", "To find the document"),
            fields: specific,
        });
    }
    let mut name = FieldView::new(
        "nom",
        tr(lang, "Vos nom et prénom", "Your full name"),
        "text",
    );
    name.required = true;
    name.value = draft.name.clone();
    name.max = 200;
    name.autocomplete = Some("name");
    let mut email = FieldView::new(
        "courriel",
        tr(lang, "Votre adresse électronique", "Your e-mail address"),
        "email",
    );
    email.required = true;
    email.value = draft.email.clone();
    email.max = 254;
    email.autocomplete = Some("email");
    email.help = Some(tr(
        lang,
        "Le service vous répond à cette adresse ; vous y recevez aussi le lien pour suivre votre demande.",
        "The service answers you at this address; you also receive there the link to follow your request.",
    ));
    let mut phone = FieldView::new(
        "telephone",
        tr(
            lang,
            "Votre téléphone (facultatif)",
            "Your phone number (optional)",
        ),
        "tel",
    );
    phone.value = draft.phone.clone();
    phone.max = 30;
    phone.autocomplete = Some("tel");
    let mut message = FieldView::new(
        "message",
        tr(lang, "Votre message", "Your message"),
        "textarea",
    );
    message.required = true;
    message.value = draft.message.clone();
    message.max = MAX_MESSAGE;
    message.help = Some(tr(
        lang,
        "Ce que vous cherchez, et pourquoi si cela aide le service.",
        "What you are looking for, and why if it helps the service.",
    ));
    let mut files = FieldView::new(
        "pieces",
        tr(
            lang,
            "Pièces jointes (facultatif)",
            "Attachments (optional)",
        ),
        "file",
    );
    files.help = Some(tr(
        lang,
        "PDF, JPEG ou PNG ; 5 fichiers au plus, 10 Mo chacun, 20 Mo en tout.",
        "PDF, JPEG or PNG; at most 5 files, 10 MB each, 20 MB in all.",
    ));
    groups.push(Group {
        legend: tr(lang, "Vos coordonnées", "Your details"),
        fields: [name, email, phone, message, files]
            .into_iter()
            .map(|f| f.finish(errors))
            .collect(),
    });
    let mut listed: Vec<(String, String)> = Vec::new();
    for g in &groups {
        for f in &g.fields {
            if let Some(e) = &f.error {
                listed.push((f.id.clone(), format!("{} : {e}", f.label)));
            }
        }
    }
    let mut hidden = draft.display.clone();
    hidden.push(("guide".into(), draft.guide.clone()));
    hidden.push(("retour".into(), draft.back.clone()));
    FormView {
        heading: if service_name.is_empty() {
            tr(lang, "Faire une demande", "Send a request")
        } else {
            match lang {
                Lang::Fr => format!("Faire une demande à {service_name}"),
                Lang::En => format!("Send a request to {service_name}"),
            }
        },
        intro: tr(
            lang,
            "Votre demande arrive au service avec ce que le guide sait déjà. Le service vous répond par courriel ; un lien personnel vous permet de suivre votre demande et de lui répondre, sans créer de compte.",
            "Your request reaches the service with what the guide already knows. The service answers you by e-mail; a private link lets you follow your request and reply, without an account.",
        ),
        errors_title: tr(
            lang,
            "Votre demande n'est pas encore envoyée :",
            "Your request has not been sent yet:",
        ),
        errors: listed,
        hidden,
        groups,
        required_mark: tr(lang, "(obligatoire)", "(required)"),
        privacy_line: match lang {
            Lang::Fr => format!(
                "Seuls les agents du service destinataire lisent votre demande. Elle est supprimée {} après sa clôture.",
                retention_words(retention_days, lang)
            ),
            Lang::En => format!(
                "Only the agents of the service it goes to read your request. It is deleted {} after it is closed.",
                retention_words(retention_days, lang)
            ),
        },
        privacy_link: tr(lang, "Données personnelles", "Personal data"),
        submit: tr(lang, "Envoyer la demande", "Send the request"),
        back_href: (!draft.back.is_empty() && draft.back.starts_with("/g/"))
            .then(|| draft.back.clone()),
        back_label: tr(
            lang,
            "Revenir à la réponse du guide",
            "Back to the guide's answer",
        ),
    }
}

async fn form_page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let a = Answers::parse_query(raw.as_deref().unwrap_or(""));
    let d = Display::from_answers(&a);
    let snap = state.live.snapshot();
    let draft = Draft::from_query(&a);
    if !snap.accepts_requests(&draft.service) {
        return not_accepting(&d, &snap, &draft);
    }
    record_request_link(&state, &snap, &a, &draft.service).await;
    let view = form_view(
        &snap,
        &draft,
        &HashMap::new(),
        d.lang,
        state.admin.requests.retention_days,
    );
    let title = view.heading.clone();
    page(&d, title, RequestBody::Form(view), StatusCode::OK)
}

/// The form opened from an answer's request link (it carries the guide and
/// its run): a `link_clicked` event of value `request`.
async fn record_request_link(state: &AppState, snap: &Snapshot, a: &Answers, service: &str) {
    let (Some(guide), Some(run)) = (a.get("guide"), a.get(crate::analytics::RUN_PARAM)) else {
        return;
    };
    if snap.guide(guide).is_none()
        || !state
            .analytics
            .verify_run(state.live.store().as_ref(), run)
            .await
    {
        return;
    }
    state.analytics.record(crate::store::RawEvent {
        at: crate::analytics::now_utc(),
        day: super::api::iso_day(state.clock.today()),
        run: run.to_owned(),
        kind: crate::store::kind::LINK_CLICKED.to_owned(),
        guide: guide.to_owned(),
        site: a
            .get("site")
            .filter(|k| snap.site(k).is_some())
            .unwrap_or_default()
            .to_owned(),
        holders: service.to_owned(),
        value: "request".to_owned(),
        document_type: a
            .get("document")
            .filter(|d| snap.document_type(d).is_some())
            .unwrap_or_default()
            .to_owned(),
        ..crate::store::RawEvent::default()
    });
}

fn not_accepting(d: &Display, snap: &Snapshot, draft: &Draft) -> Response {
    let lang = d.lang;
    let mut paragraphs = vec![tr(
        lang,
        "Ce service ne reçoit pas encore de demandes par Locadocs. Écrivez-lui directement :",
        "This service does not take requests through Locadocs yet. Write to it directly:",
    )];
    if let Some(s) = snap.service(&draft.service) {
        for v in [&s.email, &s.request_url, &s.website].into_iter().flatten() {
            paragraphs.push(v.clone());
        }
    }
    private(message(
        StatusCode::NOT_FOUND,
        d,
        &tr(lang, "Demande impossible ici", "Request not possible here"),
        paragraphs,
        Vec::new(),
    ))
}

/// A multipart form read: text fields, and files already written to the
/// attachments directory (or refused).
struct Received {
    text: HashMap<String, String>,
    files: Vec<NewFile>,
    file_error: Option<FileRefusal>,
}

async fn read_multipart(state: &AppState, mut form: Multipart) -> Result<Received, Response> {
    let rc = &state.admin.requests;
    let mut text = HashMap::new();
    let mut files: Vec<NewFile> = Vec::new();
    let mut file_error = None;
    let bad = || (StatusCode::BAD_REQUEST, "formulaire illisible").into_response();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                drop_files(state, &files).await;
                return Err(bad());
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "pieces" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let mut field = field;
            if file_name.is_empty() {
                // An empty file input still sends a part.
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            if file_error.is_some() || files.len() >= rc.limits.max_files {
                if file_error.is_none() {
                    file_error = Some(FileRefusal::TooMany {
                        max: rc.limits.max_files,
                    });
                }
                while let Ok(Some(_)) = field.chunk().await {}
                continue;
            }
            let mut up = match rc.attachments.begin(&file_name, &rc.limits).await {
                Ok(u) => u,
                Err(e) => {
                    file_error = Some(e);
                    while let Ok(Some(_)) = field.chunk().await {}
                    continue;
                }
            };
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if let Err(e) = up.write(&chunk).await {
                            file_error = Some(e);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        up.discard().await;
                        drop_files(state, &files).await;
                        return Err(bad());
                    }
                }
            }
            match up.finish().await {
                Ok(f) => files.push(f),
                Err(e) => file_error = file_error.or(Some(e)),
            }
        } else {
            // A text field is read up to a cap well past every field's
            // limit; the rest is dropped, and the length check of the field
            // says it is too long, next to it.
            let mut field = field;
            let mut bytes: Vec<u8> = Vec::new();
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_FIELD_BYTES.saturating_sub(bytes.len());
                        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    }
                    Ok(None) => break,
                    Err(_) => {
                        drop_files(state, &files).await;
                        return Err(bad());
                    }
                }
            }
            text.insert(name, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    if file_error.is_none()
        && let Err(e) = check_totals(&files, &rc.limits)
    {
        file_error = Some(e);
    }
    Ok(Received {
        text,
        files,
        file_error,
    })
}

async fn drop_files(state: &AppState, files: &[NewFile]) {
    let keys: Vec<String> = files.iter().map(|f| f.storage_key.clone()).collect();
    state.admin.requests.attachments.delete(&keys).await;
}

fn display_of(text: &HashMap<String, String>) -> (Display, Vec<(String, String)>) {
    let pairs: Vec<(String, String)> = CARRIED
        .iter()
        .filter_map(|k| text.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    let a = Answers::parse_query(&query_of(&pairs));
    (Display::from_answers(&a), carried(&a))
}

fn too_many(d: &Display) -> Response {
    private(message(
        StatusCode::TOO_MANY_REQUESTS,
        d,
        &tr(d.lang, "Trop de demandes", "Too many requests"),
        vec![tr(
            d.lang,
            "Beaucoup de demandes ont été envoyées depuis cette adresse ou vers ce service ces dernières heures. Réessayez plus tard, ou écrivez directement au service.",
            "Many requests were sent from this address or to this service in the last hours. Try again later, or write to the service directly.",
        )],
        Vec::new(),
    ))
}

async fn submit(State(state): State<AppState>, PeerIp(peer): PeerIp, form: Multipart) -> Response {
    let got = match read_multipart(&state, form).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let (d, display) = display_of(&got.text);
    let lang = d.lang;
    let snap = state.live.snapshot();
    let t = |k: &str| got.text.get(k).map(String::as_str).unwrap_or("");
    let mut draft = Draft {
        document_type: t("document").chars().take(80).collect(),
        service: t("service").chars().take(80).collect(),
        commune: t("commune").chars().take(120).collect(),
        year: t("annee").chars().take(20).collect(),
        guide: t("guide").chars().take(80).collect(),
        back: t("retour").chars().take(2000).collect(),
        fields: HashMap::new(),
        name: t("nom").chars().take(200).collect(),
        email: t("courriel").chars().take(254).collect(),
        phone: t("telephone").chars().take(30).collect(),
        message: t("message").chars().take(MAX_MESSAGE).collect(),
        display,
    };
    // The honeypot: a robot filled the hidden field. Pretend success.
    if !t("website").is_empty() {
        drop_files(&state, &got.files).await;
        return Redirect::to(&format!("/demande/envoyee?{}", query_of(&draft.display)))
            .into_response();
    }
    let mut errors: HashMap<String, String> = HashMap::new();
    let doc = snap.document_type(&draft.document_type);
    if doc.is_none() {
        errors.insert(
            "document".into(),
            tr(
                lang,
                "choisissez un document dans la liste",
                "choose a document from the list",
            ),
        );
    }
    if !snap.accepts_requests(&draft.service) {
        errors.insert(
            "service".into(),
            tr(
                lang,
                "choisissez un service dans la liste",
                "choose a service from the list",
            ),
        );
    }
    let commune = if draft.commune.trim().is_empty() {
        None
    } else {
        match resolve_commune(&snap, &draft.commune) {
            Some(c) => Some(c),
            None => {
                errors.insert(
                    "commune".into(),
                    tr(
                        lang,
                        "commune introuvable : indiquez son nom exact ou son code INSEE",
                        "commune not found: give its exact name or INSEE code",
                    ),
                );
                None
            }
        }
    };
    let (year_from, year_to) = match parse_years(&draft.year) {
        Ok(y) => y,
        Err(()) => {
            errors.insert(
                "annee".into(),
                tr(
                    lang,
                    "indiquez une année (1985) ou une période (1985-1990)",
                    "give a year (1985) or a period (1985-1990)",
                ),
            );
            (None, None)
        }
    };
    let mut fields = Vec::new();
    for f in snap.request_fields(&draft.document_type) {
        let raw = t(&format!("f_{}", f.key));
        let value = clean_text(raw);
        if raw.chars().count() > f.max_len() {
            errors.insert(
                format!("f_{}", f.key),
                match lang {
                    Lang::Fr => format!("{} caractères au plus", f.max_len()),
                    Lang::En => format!("{} characters at most", f.max_len()),
                },
            );
        } else if value.is_none() && f.required {
            errors.insert(
                format!("f_{}", f.key),
                tr(lang, "ce champ est obligatoire", "this field is required"),
            );
        }
        draft
            .fields
            .insert(f.key.clone(), raw.chars().take(f.max_len()).collect());
        if let Some(v) = value {
            fields.push((f.key.clone(), v));
        }
    }
    // The general fields' limits, said next to each rather than cut.
    for (key, max) in [
        ("nom", 200),
        ("courriel", 254),
        ("telephone", 30),
        ("commune", 120),
        ("annee", 20),
    ] {
        if t(key).chars().count() > max {
            errors.insert(
                key.into(),
                match lang {
                    Lang::Fr => format!("{max} caractères au plus"),
                    Lang::En => format!("{max} characters at most"),
                },
            );
        }
    }
    let name = clean_text(&draft.name).map(|n| n.replace('\n', " "));
    if name.is_none() {
        errors.insert(
            "nom".into(),
            tr(lang, "indiquez votre nom", "give your name"),
        );
    }
    let email = clean_email(&draft.email);
    if email.is_none() {
        errors.insert(
            "courriel".into(),
            tr(
                lang,
                "adresse invalide, par exemple marie.dupont@exemple.fr",
                "invalid address, e.g. marie.dupont@example.org",
            ),
        );
    }
    let phone = clean_text(&draft.phone);
    if phone.as_deref().is_some_and(|p| {
        !p.chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
    }) {
        errors.insert(
            "telephone".into(),
            tr(
                lang,
                "un numéro de téléphone ne contient que des chiffres, des espaces et + . - ( )",
                "a phone number holds only digits, spaces and + . - ( )",
            ),
        );
    }
    let body = clean_text(&draft.message);
    if t("message").chars().count() > MAX_MESSAGE {
        errors.insert(
            "message".into(),
            format!("{MAX_MESSAGE} caractères au plus"),
        );
    } else if body.is_none() {
        errors.insert(
            "message".into(),
            tr(
                lang,
                "écrivez ce que vous cherchez",
                "write what you are looking for",
            ),
        );
    }
    if let Some(e) = &got.file_error {
        errors.insert(
            "pieces".into(),
            match lang {
                Lang::Fr => e.to_string(),
                Lang::En => e.english(),
            },
        );
    }
    if !errors.is_empty() {
        // Nothing is kept of a refused form but what it shows again.
        drop_files(&state, &got.files).await;
        let mut view = form_view(
            &snap,
            &draft,
            &errors,
            lang,
            state.admin.requests.retention_days,
        );
        if got.file_error.is_none() && !got.files.is_empty() {
            view.errors.push(("champ-pieces".into(), tr(lang, "Pièces jointes : choisissez-les à nouveau (elles ne sont gardées qu'avec la demande envoyée)", "Attachments: choose them again (they are kept only with a sent request)")));
        }
        let title = view.heading.clone();
        return page(
            &d,
            title,
            RequestBody::Form(view),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (Some(doc), Some(name), Some(email), Some(body)) = (doc, name, email, body) else {
        unreachable!("checked above");
    };
    // Limits against floods: per client address (memory), per e-mail
    // address and per target service (the database).
    let since_day = crate::store::time_text(chrono::Utc::now() - chrono::Duration::days(1));
    let since_hour = crate::store::time_text(chrono::Utc::now() - chrono::Duration::hours(1));
    let rc = &state.admin.requests;
    let (by_email, _) = match state
        .live
        .store()
        .recent_requests(&email, &draft.service, &since_day)
        .await
    {
        Ok(c) => c,
        Err(e) => return internal(&state, &got.files, e).await,
    };
    let (_, by_service) = match state
        .live
        .store()
        .recent_requests(&email, &draft.service, &since_hour)
        .await
    {
        Ok(c) => c,
        Err(e) => return internal(&state, &got.files, e).await,
    };
    if !state.request_limiter.allow(peer)
        || by_email >= i64::from(rc.per_address)
        || by_service >= i64::from(rc.per_service)
    {
        drop_files(&state, &got.files).await;
        return too_many(&d);
    }
    let request = NewRequest {
        service: draft.service.clone(),
        document_type: doc.slug.to_string(),
        commune: commune.clone(),
        year_from,
        year_to,
        guide: snap.guide(&draft.guide).map(|g| g.slug.to_string()),
        fields,
        name,
        email,
        phone,
        body,
        lang: lang.as_str().to_owned(),
    };
    let secrets = NewSecrets::generate();
    // The mails are written with the request, in its transaction: they are
    // built from the request as it will be stored.
    let store = state.live.store();
    let agents = match store.agents_of(&draft.service).await {
        Ok(a) => a,
        Err(e) => return internal(&state, &got.files, e).await,
    };
    let reference = crate::store::new_reference(
        chrono::Utc::now()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026),
    );
    let stand_in = StoredRequest::unsaved(&request, &reference, &secrets.reply);
    let names = Names::of(&snap, &stand_in);
    let ctx = MailContext {
        public_url: &state.admin.public_url,
        reply: &rc.reply,
        domain: state.admin.mailer.sender_domain(),
        parent: None,
    };
    let mut mails_out = vec![mails::confirmation(
        &ctx,
        &stand_in,
        &names,
        &secrets.access,
    )];
    for a in mails::told_of_each(&agents) {
        mails_out.push(mails::new_request(&ctx, &stand_in, &names, &a.email, None));
    }
    match store
        .create_request(
            &request,
            &reference,
            &secrets.stored(),
            &got.files,
            &mails_out,
        )
        .await
    {
        Ok(_) => super::stats::request_event(
            &state,
            crate::store::kind::REQUEST_SENT,
            request.guide.as_deref(),
            &request.service,
            &request.document_type,
            "",
        ),
        Err(e) => return internal(&state, &got.files, e).await,
    }
    let mut q = draft.display.clone();
    q.push(("reference".into(), reference));
    if !draft.back.is_empty() {
        q.push(("retour".into(), draft.back.clone()));
    }
    Redirect::to(&format!("/demande/envoyee?{}", query_of(&q))).into_response()
}

async fn internal(state: &AppState, files: &[NewFile], e: crate::store::StoreError) -> Response {
    drop_files(state, files).await;
    tracing::error!(error = %e, "request not stored");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "erreur interne : votre demande n'a pas été enregistrée, réessayez",
    )
        .into_response()
}

async fn sent_page(RawQuery(raw): RawQuery) -> Response {
    let a = Answers::parse_query(raw.as_deref().unwrap_or(""));
    let d = Display::from_answers(&a);
    let lang = d.lang;
    let reference: String = a
        .get("reference")
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(20)
        .collect();
    let mut links = Vec::new();
    if let Some(back) = a.get("retour").filter(|b| b.starts_with("/g/")) {
        links.push((
            tr(
                lang,
                "Revenir à la réponse du guide",
                "Back to the guide's answer",
            ),
            back.to_owned(),
        ));
    }
    let q = query_of(&carried(&a));
    links.push((
        tr(
            lang,
            "Je n'ai pas reçu le courriel",
            "I did not receive the e-mail",
        ),
        format!("/demande/lien?{q}"),
    ));
    page(
        &d,
        tr(lang, "Demande envoyée", "Request sent"),
        RequestBody::Sent(SentView {
            heading: tr(
                lang,
                "Votre demande est envoyée",
                "Your request has been sent",
            ),
            reference_line: tr(lang, "Sa référence :", "Its reference:"),
            reference,
            paragraphs: vec![tr(
                lang,
                "Elle est enregistrée et transmise au service. Un courriel de confirmation vous est envoyé, avec un lien personnel pour suivre votre demande, lire les messages du service et lui répondre. Notez la référence : elle vous sera demandée si vous appelez le service.",
                "It is stored and passed on to the service. A confirmation e-mail is on its way to you, with a private link to follow your request, read the service's messages and answer them. Note the reference: the service will ask for it if you call.",
            )],
            links,
        }),
        StatusCode::OK,
    )
}

fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} Mo", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    } else {
        format!("{} Ko", (bytes + 1023) / 1024)
    }
}

use super::i18n::local_time;

fn event_views(
    snap: &Snapshot,
    events: &[RequestEvent],
    files: &[crate::store::Attachment],
    token: &str,
    req: &StoredRequest,
    lang: Lang,
) -> Vec<EventView> {
    let service_name = |id: &str| {
        snap.service(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_owned())
    };
    events
        .iter()
        .filter(|e| e.kind.public())
        .map(|e| {
            let (who, mine) = match e.kind {
                EventKind::Created | EventKind::MessageIn => (tr(lang, "Vous", "You"), true),
                _ => (service_name(&e.service), false),
            };
            let mut paragraphs: Vec<String> = Vec::new();
            match e.kind {
                EventKind::Created => {
                    paragraphs.push(tr(lang, "Demande envoyée.", "Request sent."));
                    for (k, v) in &req.fields {
                        let label = snap
                            .request_fields(&req.document_type)
                            .iter()
                            .find(|f| &f.key == k)
                            .map(|f| f.label_in(lang == Lang::En).to_owned())
                            .unwrap_or_else(|| k.clone());
                        paragraphs.push(format!("{label} : {v}"));
                    }
                }
                EventKind::Status => {
                    if let Some(s) = e
                        .data
                        .get("status")
                        .and_then(|s| s.as_str())
                        .and_then(Status::parse)
                    {
                        paragraphs.push(match lang {
                            Lang::Fr => format!("Statut : {}", s.label()),
                            Lang::En => format!("Status: {}", s.label_en()),
                        });
                    }
                }
                EventKind::Reroute => {
                    let to = e.data.get("to").and_then(|s| s.as_str()).unwrap_or("");
                    paragraphs.push(match lang {
                        Lang::Fr => format!("Demande transmise à {}.", service_name(to)),
                        Lang::En => format!("Request passed on to {}.", service_name(to)),
                    });
                }
                _ => {}
            }
            if let Some(b) = &e.body {
                paragraphs.extend(
                    b.split("\n\n")
                        .map(|p| p.trim().to_owned())
                        .filter(|p| !p.is_empty()),
                );
            }
            EventView {
                who,
                at: e.at.clone(),
                when: local_time(&e.at, lang),
                paragraphs,
                files: files
                    .iter()
                    .filter(|f| f.event_id == Some(e.id))
                    .map(|f| {
                        (
                            f.file_name.clone(),
                            format!("/demande/suivi/{token}/pieces/{}", f.id),
                            size_words(f.size),
                        )
                    })
                    .collect(),
                mine,
            }
        })
        .collect()
}

async fn load_by_token(state: &AppState, token: &str) -> Option<StoredRequest> {
    if token.len() < 32 || token.len() > 64 {
        return None;
    }
    state
        .live
        .store()
        .request_by_access(&token_hash(token))
        .await
        .ok()
        .flatten()
}

async fn thread_response(
    state: &AppState,
    d: &Display,
    token: &str,
    req: &StoredRequest,
    error: Option<String>,
    reply_value: String,
    notice: Option<String>,
) -> Response {
    let lang = d.lang;
    let snap = state.live.snapshot();
    let store = state.live.store();
    let (events, files) = match (store.events(req.id).await, store.attachments(req.id).await) {
        (Ok(e), Ok(f)) => (e, f),
        _ => return (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response(),
    };
    let mut facts = vec![
        (tr(lang, "Référence", "Reference"), req.reference.clone()),
        (
            tr(lang, "Service", "Service"),
            snap.service(&req.service)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| req.service.clone()),
        ),
        (
            tr(lang, "Document", "Document"),
            snap.document_type(&req.document_type)
                .map(|t| t.label.clone())
                .unwrap_or_else(|| req.document_type.clone()),
        ),
    ];
    if let Some(c) = &req.commune {
        facts.push((tr(lang, "Commune", "Commune"), commune_name(&snap, c)));
    }
    facts.push((
        tr(lang, "Statut", "Status"),
        match (lang, &req.status_reason) {
            (Lang::Fr, Some(r)) if req.status.is_final() => format!("{} — {r}", req.status.label()),
            (Lang::En, Some(r)) if req.status.is_final() => {
                format!("{} — {r}", req.status.label_en())
            }
            (Lang::Fr, _) => req.status.label().to_owned(),
            (Lang::En, _) => req.status.label_en().to_owned(),
        },
    ));
    let hidden = vec![("lang".to_owned(), req.lang.clone())];
    let view = ThreadView {
        heading: match lang {
            Lang::Fr => format!("Votre demande {}", req.reference),
            Lang::En => format!("Your request {}", req.reference),
        },
        facts,
        notice,
        thread_title: tr(lang, "Échanges", "Messages"),
        events: event_views(&snap, &events, &files, token, req, lang),
        error,
        action: format!("/demande/suivi/{token}"),
        hidden,
        reply_label: tr(lang, "Écrire au service", "Write to the service"),
        reply_value,
        files_label: tr(
            lang,
            "Pièces jointes (facultatif)",
            "Attachments (optional)",
        ),
        files_help: tr(
            lang,
            "PDF, JPEG ou PNG ; 5 fichiers au plus, 10 Mo chacun.",
            "PDF, JPEG or PNG; at most 5 files, 10 MB each.",
        ),
        reply_submit: tr(lang, "Envoyer", "Send"),
    };
    let title = view.heading.clone();
    page(d, title, RequestBody::Thread(view), StatusCode::OK)
}

fn lang_of(req: &StoredRequest, raw: Option<&str>) -> Display {
    let a = Answers::parse_query(raw.unwrap_or(""));
    let mut d = Display::from_answers(&a);
    if a.get("lang").is_none() {
        d.lang = Lang::parse(Some(req.lang.as_str()));
    }
    d
}

async fn thread_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(req) = load_by_token(&state, &token).await else {
        return private(gone(Lang::Fr));
    };
    let d = lang_of(&req, raw.as_deref());
    let notice = raw
        .as_deref()
        .is_some_and(|r| r.contains("envoye=1"))
        .then(|| {
            tr(
                d.lang,
                "Votre message est envoyé au service.",
                "Your message has been sent to the service.",
            )
        });
    thread_response(&state, &d, &token, &req, None, String::new(), notice).await
}

fn gone(lang: Lang) -> Response {
    let mut resp = not_found_page(lang);
    *resp.status_mut() = StatusCode::NOT_FOUND;
    resp
}

async fn reply(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PeerIp(peer): PeerIp,
    form: Multipart,
) -> Response {
    let Some(req) = load_by_token(&state, &token).await else {
        return private(gone(Lang::Fr));
    };
    let got = match read_multipart(&state, form).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let d = lang_of(&req, None);
    let lang = d.lang;
    let raw = got.text.get("message").cloned().unwrap_or_default();
    let text = clean_text(&raw);
    let error = if let Some(e) = &got.file_error {
        Some(match lang {
            Lang::Fr => format!("Pièces jointes : {e}"),
            Lang::En => format!("Attachments: {}", e.english()),
        })
    } else if raw.chars().count() > MAX_MESSAGE {
        Some(format!("{MAX_MESSAGE} caractères au plus"))
    } else if text.is_none() && got.files.is_empty() {
        Some(tr(
            lang,
            "Écrivez un message ou joignez un fichier.",
            "Write a message or attach a file.",
        ))
    } else if !state.request_limiter.allow(peer) {
        Some(tr(
            lang,
            "Trop de messages envoyés : réessayez dans quelques minutes.",
            "Too many messages sent: try again in a few minutes.",
        ))
    } else {
        None
    };
    if let Some(error) = error {
        drop_files(&state, &got.files).await;
        let mut resp = thread_response(
            &state,
            &d,
            &token,
            &req,
            Some(error),
            raw.chars().take(MAX_MESSAGE).collect(),
            None,
        )
        .await;
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return resp;
    }
    let store = state.live.store();
    let agents = match store.agents_of(&req.service).await {
        Ok(a) => a,
        Err(e) => return internal(&state, &got.files, e).await,
    };
    let parent = store.last_message_id(req.id).await.ok().flatten();
    let ctx = MailContext {
        public_url: &state.admin.public_url,
        reply: &state.admin.requests.reply,
        domain: state.admin.mailer.sender_domain(),
        parent,
    };
    let out = mails::person_replied_to_agents(&ctx, &req, &agents);
    let mut event = EventDraft::new(EventKind::MessageIn, "demandeur");
    event.body = text;
    event.data = serde_json::json!({ "via": "page" });
    if req.status == Status::Waiting {
        event.status = Some((Status::InProgress, None));
    }
    if let Err(e) = store
        .add_event(req.id, None, &event, &got.files, &out)
        .await
    {
        return internal(&state, &got.files, e).await;
    }
    Redirect::to(&format!("/demande/suivi/{token}?envoye=1")).into_response()
}

async fn download(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, i64)>,
) -> Response {
    let Some(req) = load_by_token(&state, &token).await else {
        return private(gone(Lang::Fr));
    };
    let Ok(files) = state.live.store().attachments(req.id).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response();
    };
    let Some(file) = files.into_iter().find(|f| f.id == id) else {
        return private(gone(Lang::Fr));
    };
    private(attachment_response(&state, &file).await)
}

/// A file name for `Content-Disposition`: an ASCII `filename` for old
/// clients, and the exact name as RFC 5987 `filename*`.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b);
        if keep {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A stored attachment, streamed, always as a download: for the person's
/// private page and for the agents' inbox alike.
pub async fn attachment_response(state: &AppState, file: &crate::store::Attachment) -> Response {
    let Some(f) = state
        .admin
        .requests
        .attachments
        .open(&file.storage_key)
        .await
    else {
        return (StatusCode::NOT_FOUND, "fichier introuvable").into_response();
    };
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(f));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&file.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&file.file_name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    if let Ok(v) = HeaderValue::from_str(&file.size.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    resp
}

fn link_view(lang: Lang, sent: bool, hidden: Vec<(String, String)>) -> LinkView {
    LinkView {
        heading: tr(
            lang,
            "Recevoir à nouveau le lien de ma demande",
            "Get the link to my request again",
        ),
        paragraphs: if sent {
            vec![tr(
                lang,
                "Si une demande porte cette référence et cette adresse, un nouveau lien vient d'y être envoyé. L'ancien ne fonctionne plus.",
                "If a request has this reference and address, a new link has just been sent there. The old one no longer works.",
            )]
        } else {
            vec![tr(
                lang,
                "Indiquez la référence de votre demande et l'adresse électronique avec laquelle vous l'avez envoyée : nous y envoyons un nouveau lien personnel.",
                "Give your request's reference and the e-mail address you sent it with: we send a new private link there.",
            )]
        },
        sent,
        hidden,
        reference_label: tr(lang, "Référence de la demande", "Request reference"),
        email_label: tr(lang, "Votre adresse électronique", "Your e-mail address"),
        submit: tr(lang, "Recevoir un nouveau lien", "Send me a new link"),
    }
}

async fn link_page(RawQuery(raw): RawQuery) -> Response {
    let a = Answers::parse_query(raw.as_deref().unwrap_or(""));
    let d = Display::from_answers(&a);
    let view = link_view(d.lang, false, carried(&a));
    page(
        &d,
        view.heading.clone(),
        RequestBody::Link(view),
        StatusCode::OK,
    )
}

#[derive(serde::Deserialize)]
struct LinkForm {
    reference: Option<String>,
    courriel: Option<String>,
    lang: Option<String>,
    embed: Option<String>,
}

async fn send_link(
    State(state): State<AppState>,
    PeerIp(peer): PeerIp,
    axum::Form(form): axum::Form<LinkForm>,
) -> Response {
    let mut pairs = Vec::new();
    if let Some(l) = &form.lang {
        pairs.push(("lang".to_owned(), l.clone()));
    }
    if let Some(e) = &form.embed {
        pairs.push(("embed".to_owned(), e.clone()));
    }
    let a = Answers::parse_query(&query_of(&pairs));
    let d = Display::from_answers(&a);
    if !state.request_limiter.allow(peer) {
        return too_many(&d);
    }
    let reference = form.reference.unwrap_or_default();
    let email = form.courriel.as_deref().and_then(clean_email);
    let store = state.live.store();
    if let (Some(email), Ok(Some(req))) = (email, store.request_by_reference(&reference).await)
        && req.email == email
    {
        let token = random_token();
        let ctx = MailContext {
            public_url: &state.admin.public_url,
            reply: &state.admin.requests.reply,
            domain: state.admin.mailer.sender_domain(),
            parent: store.last_message_id(req.id).await.ok().flatten(),
        };
        let mail = mails::link_again(&ctx, &req, &token);
        let event = EventDraft::new(EventKind::LinkSent, "demandeur");
        if let Err(e) = store
            .set_access_hash(req.id, &token_hash(&token), &event, &[mail])
            .await
        {
            tracing::error!(error = %e, "private link not renewed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne").into_response();
        }
    }
    // The same answer whether or not the request exists.
    let view = link_view(d.lang, true, carried(&a));
    page(
        &d,
        view.heading.clone(),
        RequestBody::Link(view),
        StatusCode::OK,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn years_and_periods_are_read() {
        assert_eq!(super::parse_years(""), Ok((None, None)));
        assert_eq!(super::parse_years("1985"), Ok((Some(1985), None)));
        assert_eq!(
            super::parse_years("1985-1990"),
            Ok((Some(1985), Some(1990)))
        );
        assert_eq!(
            super::parse_years("1985 – 1990"),
            Ok((Some(1985), Some(1990)))
        );
        assert!(super::parse_years("1990-1985").is_err());
        assert!(super::parse_years("85").is_err());
        assert!(super::parse_years("hier").is_err());
    }
}
